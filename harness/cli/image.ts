import type { Command } from 'commander';
import { guestImage } from '../images/build.js';
import { DEFAULT_IMAGE, imageNames } from '../images/recipe.js';

export function registerImage(program: Command): void {
  const image = program.command('image').description('guest images');
  image
    .command('build')
    .description('build a guest image (or find it in the cache) and print where it is')
    .argument('[name]', `image name, images/NAME.json: ${imageNames().join(', ')}`, DEFAULT_IMAGE)
    .addHelpText('after', '\nExamples:\n  $ nvdimm-harness image build\n  $ nvdimm-harness image build debian-trixie')
    .action(async (name: string) => {
      const started = Date.now();
      const built = await guestImage(name, { log: (line) => console.error(line) });
      console.log(`${built.name}: kernel ${built.kernelVersion}, ${built.cached ? 'cached' : 'built'} in ${Date.now() - started} ms`);
      console.log(`  kernel    ${built.vmlinux}\n  initramfs ${built.initramfs}`);
    });
}

import type { Command } from 'commander';
import { ownKernelSetting } from '../engine/environment.js';
import { guestImage } from '../images/build.js';
import { DEFAULT_IMAGE, imageNames } from '../images/recipe.js';
import { addSettingOptions, exportSettings } from '../settings.js';

export function registerImage(program: Command): void {
  const image = program.command('image').description('guest images');
  const build = image
    .command('build')
    .description('build a guest image (or find it in the cache) and print where it is')
    .argument('[name]', `image name, images/NAME.json: ${imageNames().join(', ')}`, DEFAULT_IMAGE);
  addSettingOptions(build, ['kernel', 'modules'])
    .addHelpText(
      'after',
      `
Examples:
  $ nvdimm-harness image build
  $ nvdimm-harness image build debian-trixie
  $ nvdimm-harness image build --kernel ~/linux/arch/x86/boot/bzImage --modules /tmp/mods   # your kernel, bookworm's userland`,
    )
    .action(async (name: string, opts: { kernel?: string; modules?: string }) => {
      exportSettings({ kernel: opts.kernel, modules: opts.modules });
      const started = Date.now();
      const built = await guestImage(name, { kernel: ownKernelSetting(), log: (line) => console.error(line) });
      console.log(`${built.name}: kernel ${built.kernelVersion}, ${built.cached ? 'cached' : 'built'} in ${Date.now() - started} ms`);
      console.log(`  kernel    ${built.kernel}\n  initramfs ${built.initramfs}`);
    });
}

// Bundles the extension and the CLI with esbuild.
// ssh2 optionally loads native addons (cpu-features, its own crypto binding); they are stubbed so that
// ssh2 falls back to its pure-JS code paths and the bundle has no .node files.
import { build } from 'esbuild';

const stubNativeAddons = {
  name: 'stub-native-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$|^cpu-features$/ }, (args) => ({ path: args.path, namespace: 'native-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'native-stub' }, () => ({
      contents: 'throw new Error("native addon not bundled");',
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  plugins: [stubNativeAddons],
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' }),
]);

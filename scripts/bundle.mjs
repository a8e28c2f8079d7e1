// Bundles the extension and the CLI with esbuild.
// ssh2 optionally loads native addons (cpu-features, its own crypto binding); they are stubbed so that
// ssh2 falls back to its pure-JS code paths and the bundle has no .node files.
//
// ssh2 and dockerode (with docker-modem, grpc and protobufjs: about 1.9 MB) go into their own files,
// dist/vendor/ssh2.js and dist/vendor/dockerode.js, that the extension and the CLI load on first use
// (src/core imports them with `await import()`). dist/extension.js is then small enough for VS Code to
// load quickly: the code of a bundle is parsed when it loads, even the parts that run only later.
import { build } from 'esbuild';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

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

/**
 * Makes the listed packages load from a file of dist/vendor (`dir` is relative to the bundle being
 * built). Each import becomes a small module that `require`s that file, so that a dynamic `import()`
 * stays lazy and gets the package's CommonJS exports, as it does with the package itself.
 */
function vendorFiles(names, dir) {
  const filter = new RegExp(`^(${names.join('|')})$`);
  return {
    name: 'vendor-files',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'vendor-file' }));
      b.onLoad({ filter: /.*/, namespace: 'vendor-file' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(`vendor-file:${args.path}`)});`,
        loader: 'js',
      }));
      b.onResolve({ filter: /^vendor-file:/ }, (args) => ({ path: `${dir}/${args.path.slice('vendor-file:'.length)}.js`, external: true }));
    },
  };
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  logLevel: 'warning',
};
const vendor = ['ssh2', 'dockerode'];

await Promise.all([
  build({ ...common, plugins: [stubNativeAddons, vendorFiles(vendor, './vendor')], entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  build({ ...common, plugins: [stubNativeAddons, vendorFiles(vendor, './vendor')], entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' }),
  // programs the lab starts as processes of their own (lab/vmNode.ts, lab/vmAptRepo.ts find them next to dist/cli.js)
  build({ ...common, entryPoints: ['lab/vmSupervisor.ts'], outfile: 'dist/vmSupervisor.js' }),
  build({ ...common, entryPoints: ['lab/vmRepoServer.ts'], outfile: 'dist/vmRepoServer.js' }),
  build({ ...common, plugins: [stubNativeAddons], entryPoints: [require.resolve('ssh2')], outfile: 'dist/vendor/ssh2.js' }),
  // dockerode's docker-modem requires ssh2: the one in dist/vendor/ssh2.js
  build({ ...common, plugins: [stubNativeAddons, vendorFiles(['ssh2'], '.')], entryPoints: [require.resolve('dockerode')], outfile: 'dist/vendor/dockerode.js' }),
]);

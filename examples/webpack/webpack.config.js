// The plainest webpack 5 setup: one entry per page, ES module output. No loader or rule for the
// package's .wasm / .emx files is needed.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: { main: './main.js', video: './video.js' },
  experiments: { outputModule: true },
  output: {
    path: fileURLToPath(new URL('./dist/', import.meta.url)),
    filename: '[name].js',
    module: true,
    publicPath: 'auto',
  },
  // The models (0.4-4.6 MB) and .wasm are fetched when load() asks for them, never part of the
  // page's startup bundle: keep webpack's size hints for the JavaScript only.
  performance: { assetFilter: (file) => !/\.(emx|wasm)$/.test(file) },
};

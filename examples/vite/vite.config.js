// Only to build both pages (Vite builds index.html alone by default); the package itself needs
// no Vite configuration.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    rollupOptions: { input: { main: 'index.html', video: 'video.html' } },
  },
});

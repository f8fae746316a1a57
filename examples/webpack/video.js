// The camera, analysed live: watchVideo() runs the model in a Web Worker (the package's own,
// which the bundler builds like any new Worker(new URL(...), import.meta.url)).
import { watchVideo, EmxError } from 'emoxnet';

async function main() {
  const status = document.querySelector("#status");
  const fail = (err) => {
    status.textContent = err instanceof EmxError ? `${err.code}: ${err.message}` : String(err);
    document.body.dataset.error = status.textContent;
  };
  try {
    const video = document.querySelector("#camera");
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
    await video.play();
    let frames = 0;
    // Every new frame is analysed in a Web Worker; faces keep their id from frame to frame and
    // their scores are smoothed over the last frames.
    const watcher = watchVideo(video, {
      worker: true,
      onFaces(faces) {
        status.textContent = faces.map((f) => `#${f.id} ${f.label}`).join(", ") || "no face in view";
        if (++frames === 5) document.body.dataset.result = JSON.stringify(faces.map((f) => ({ id: f.id, label: f.label, box: f.box })));
      },
      onError: fail,
    });
    await watcher.ready;
  } catch (err) {
    fail(err);
  }
}
main();

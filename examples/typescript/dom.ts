// Type-checked with the DOM lib (tsconfig.dom.json): every media input a page holds is accepted
// as it is, and watchVideo() reports typed, tracked faces.
import { load, watchVideo, type Expression, type TrackedFace } from 'emoxnet';

export async function demo(video: HTMLVideoElement, img: HTMLImageElement, canvas: HTMLCanvasElement): Promise<Expression | null> {
  const model = await load('ensemble');
  const bitmap = await createImageBitmap(img);
  model.classify(img);
  model.classify(canvas);
  model.classify(bitmap);
  model.classify(new OffscreenCanvas(48, 48));
  model.classify(new ImageData(48, 48));
  if (typeof VideoFrame === 'function') model.classify(new VideoFrame(bitmap, { timestamp: 0 }));
  const faces = await model.analyze(video);
  const watcher = watchVideo(video, {
    worker: true,
    explain: true,
    onFaces: (tracked: TrackedFace[]) => {
      for (const f of tracked) console.log(f.id, f.label, f.scores.happiness, f.cam?.data.length, f.crop?.angle);
    },
  });
  await watcher.ready;
  watcher.stop();
  // @ts-expect-error: a string is not an image
  model.classify('face.png');
  return faces[0]?.label ?? null;
}

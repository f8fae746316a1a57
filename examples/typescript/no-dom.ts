// Type-checked with neither the DOM lib nor @types/node (tsconfig.no-dom.json): the package's
// types must stand on ES2022 alone. The @ts-expect-error lines must stay errors.
import { load, type Classification, type ModelName } from 'emoxnet';

export async function smile(pixels: Uint8Array, width: number, height: number): Promise<number> {
  const name: ModelName = 'lite';
  const model = await load(name);
  const result: Classification = model.classify({ data: pixels, width, height });
  // A string known only at run time (a path, a URL) is accepted and checked when loading.
  const where: string = pixels.length > 0 ? 'models/custom.emx' : 'lite';
  void load(where);
  // @ts-expect-error: not a shipped model name
  void load('lit');
  // @ts-expect-error: not an expression
  void result.scores.happyness;
  return result.scores.happiness;
}

// TypeScript (strict), Node: the package's types name every expression, so a typo in a class
// or model name is a compile error, not an undefined at run time.
import { readFile } from 'node:fs/promises';
import { load, EmxError, EXPRESSIONS, type Expression, type AnalyzedFace } from 'emoxnet';

function top(face: AnalyzedFace): [Expression, number] {
  let best: Expression = 'neutral';
  for (const e of EXPRESSIONS) if (face.scores[e] > face.scores[best]) best = e;
  return [best, face.scores[best]];
}

async function main(file: string): Promise<number> {
  try {
    const model = await load('lite');
    const faces = await model.analyze(await readFile(file));
    for (const f of faces) {
      const [label, p] = top(f);
      console.log(JSON.stringify({ label, score: p, box: f.box }));
    }
    model.dispose();
    return 0;
  } catch (err) {
    if (err instanceof EmxError) console.error(`${err.code}: ${err.message}`);
    else throw err;
    return 1;
  }
}

main(process.argv[2] ?? 'face.png').then((code) => {
  process.exitCode = code;
});

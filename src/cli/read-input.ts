import { readFile } from 'node:fs/promises';
import { UsageError, ValidationError } from '../core/errors.js';
import { jsonSyntaxReason } from '../core/json-syntax.js';

/** Reads a JSON document from a file, or from stdin for `-`. */
export async function readJsonInput(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${what} from ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(
      `${file === '-' ? 'stdin' : file} is not valid JSON: ${jsonSyntaxReason(error)}`,
      {
        hint: `${what} is a JSON document (see GET /openapi.json, DatasetMetadata)`,
      },
    );
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/* Process entry of the bundled CLI (out/cli/index.cjs). */
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kd-lens: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
);

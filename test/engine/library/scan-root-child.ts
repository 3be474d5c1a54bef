// Prints scanRootToList(argv[2]) as JSON. scanner.test.ts runs it as an unprivileged user when the
// tests run as root (as in CI containers), because root reads folders whatever their permissions.
import { scanRootToList } from '../../../electron/engine/library/node/scanner.ts';

const result = await scanRootToList(process.argv[2]!);
process.stdout.write(JSON.stringify({ files: result.files.map((f) => f.relativePath), problems: result.problems }));

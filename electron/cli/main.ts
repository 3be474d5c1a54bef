// The `trove` command line: parses the command word and hands the rest to one module per command.
import { CliUsageError } from './cli-error.ts';
import { runEmbed } from './commands/embed.ts';
import { runModelBuild } from './commands/model-build.ts';
import { runModelInspect } from './commands/model-inspect.ts';
import { runModelList } from './commands/model-list.ts';
import { runModelPull } from './commands/model-pull.ts';
import { runModelTiny } from './commands/model-tiny.ts';
import { runRerank } from './commands/rerank.ts';
import { runIndex } from './commands/index-folder.ts';
import { runSearch } from './commands/search.ts';
import { runServe } from './commands/serve.ts';
import { runStatus } from './commands/status.ts';

const USAGE = `Usage: trove <command> [options]

Commands:
  index <folder> [--once] [--include GLOB]… [--exclude GLOB]… [--data DIR] [--model PKG] [--reranker PKG]
        Add a folder to the library and index it (--once: return when done; else keep watching).
  search "<text>" [--image P] [--kind K]… [--limit N] [--no-rerank] [--json] [--data DIR] [--model PKG] [--reranker PKG]
        Search the library by text and/or image.
  status [--json] [--data DIR] [--model PKG]
        Files indexed, failed and pending; items, vectors, the ANN index and the model.
  serve [--port N] [--data DIR] [--model PKG] [--reranker PKG]
        The engine and the web UI on http://127.0.0.1 (watching your folders).
  embed --text T --image P --video V [--instruction I] [--dims N] --model DIR [--inputs-only] [--json]
        Show what the embedding model receives for these inputs (prompt, token ids, image and
        video grids, frame choices) and, with a model package, the embedding.
  rerank --query-text Q [--query-image P] --doc-text D [--doc-image P]… --model DIR [--instruction I] [--json]
        Score documents against a query with a reranker model package (scores in [0, 1]).
  model list [--json] [--data DIR]
        The models Trove can download, the one recommended for this machine, and those installed.
  model pull [<id>…] [--precision P] [--from DIR]… [--data DIR]
        Download (resumable, verified), build and activate models; no id: the recommended ones.
  model tiny --out DIR [--kind embedding|reranker] [--seed N]
        Write a tiny random-weight Qwen3-VL checkpoint (real architecture and vocabulary) for tests.
  model build <checkpoint-dir> --out <package-dir> [--kind embedding|reranker] [--precision P] [--overwrite]
        Build a model package (ONNX graphs, tokenizer, manifest with hashes) from a checkpoint.
  model inspect <package-dir> [--verify] [--json]
        Show a model package's manifest and check its files (--verify: also their SHA-256).

Run 'trove <command> --help' for the options of one command.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'index':
        return await runIndex(rest);
      case 'search':
        return await runSearch(rest);
      case 'status':
        return await runStatus(rest);
      case 'serve':
        return await runServe(rest);
      case 'embed':
        return await runEmbed(rest);
      case 'rerank':
        return await runRerank(rest);
      case 'model': {
        const [sub, ...args] = rest;
        if (sub === 'tiny') return await runModelTiny(args);
        if (sub === 'build') return await runModelBuild(args);
        if (sub === 'inspect') return await runModelInspect(args);
        if (sub === 'list') return await runModelList(args);
        if (sub === 'pull') return await runModelPull(args);
        throw new CliUsageError(`unknown 'model' subcommand '${sub ?? ''}'. Use 'trove model list', 'pull', 'build', 'inspect' or 'tiny'.`);
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new CliUsageError(`unknown command '${command}'. Run 'trove --help' for the list of commands.`);
    }
  } catch (error) {
    if (error instanceof CliUsageError) {
      console.error(`trove: ${error.message}`);
      return 2;
    }
    console.error(`trove: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.TROVE_DEBUG) console.error(error);
    return 1;
  }
}

// The path rules of one library folder as this machine matches them: its include/exclude patterns,
// matched regardless of letter case where the file system usually ignores it (macOS, Windows), so
// `*.jpg` takes a camera's `IMG_0001.JPG` there as Finder and Explorer would; on Linux, whose file
// systems tell `a.JPG` and `a.jpg` apart, letters match as written.
import type { Root } from '../../../contract/common/entities.ts';
import { compilePathRules, type PathRules } from '../common/path-rules.ts';

export function patternsIgnoreCase(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'darwin' || platform === 'win32';
}

export function rootPathRules(root: Pick<Root, 'include' | 'exclude'>, platform: NodeJS.Platform = process.platform): PathRules {
  return compilePathRules({ include: root.include, exclude: root.exclude, caseInsensitive: patternsIgnoreCase(platform) });
}

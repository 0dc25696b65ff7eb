/**
 * The documentation's relative links and pictures point at files that exist: README.md, CHANGELOG.md and every
 * Markdown file under docs/ (the generated docs/api/ excepted). Anchors are checked against the target's
 * headings, slugged as GitHub does (lower case, punctuation dropped, spaces to hyphens).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'api' ? [] : markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** GitHub's heading anchor: lower case, characters other than letters, digits, spaces and hyphens dropped. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1])));
}

const files = [join(ROOT, 'README.md'), join(ROOT, 'CHANGELOG.md'), ...markdownFiles(join(ROOT, 'docs'))];

it.each(files.map((f) => [relative(ROOT, f), f]))('%s: every relative link and picture exists', (_, file) => {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  const broken: string[] = [];
  for (const link of links) {
    if (/^[a-z]+:/.test(link)) continue; // http(s), mailto
    const [path, anchor] = link.split('#');
    const target = path === '' ? file : join(dirname(file), path);
    if (!existsSync(target)) broken.push(link);
    else if (anchor !== undefined && target.endsWith('.md') && !anchors(target).has(anchor))
      broken.push(link);
  }
  expect(broken).toEqual([]);
});

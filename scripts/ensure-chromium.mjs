// Run before `npm test` (the "pretest" script): the playground's browser test drives Debian's Chromium at
// /usr/bin/chromium. When it is missing, install it with apt-get (as root, or through sudo) and say so; where
// apt-get is not there, say what to install and fail, since the test would fail later anyway.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!existsSync(CHROMIUM)) {
  if (!has('apt-get')) {
    console.error(
      `pretest: the playground test needs Chromium at ${CHROMIUM} and this system has no apt-get; ` +
        'install Chromium there (or link it there), then run npm test again',
    );
    process.exit(1);
  }
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : has('sudo') ? ['sudo'] : null;
  if (sudo === null) {
    console.error(`pretest: the playground test needs Chromium: run  apt-get install -y chromium  as root`);
    process.exit(1);
  }
  console.log(
    `pretest: ${CHROMIUM} is missing and the playground's browser test needs it: installing Debian's chromium ` +
      `package with ${[...sudo, 'apt-get'].join(' ')} (once)…`,
  );
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, ...args];
    execFileSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', 'chromium']);
  if (!existsSync(CHROMIUM)) {
    console.error(`pretest: apt-get finished but ${CHROMIUM} is still missing; install Chromium by hand`);
    process.exit(1);
  }
  console.log(`pretest: installed ${execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim()}`);
}

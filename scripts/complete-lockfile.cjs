// The registry mirror here lacks the other platforms' builds of unrs-resolver (Jest 30's resolver), so
// npm leaves them out of package-lock.json and then `npm ci` refuses the lock as out of sync. This adds
// the platform-only entries (never installed on linux x64); run it after `npm install` changes the lock.
const fs = require('fs');
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const map = {
  'android-arm-eabi': ['android', 'arm'], 'android-arm64': ['android', 'arm64'], 'darwin-arm64': ['darwin', 'arm64'],
  'darwin-x64': ['darwin', 'x64'], 'freebsd-x64': ['freebsd', 'x64'], 'linux-arm-gnueabihf': ['linux', 'arm', 'glibc'],
  'linux-arm-musleabihf': ['linux', 'arm', 'musl'], 'linux-loong64-gnu': ['linux', 'loong64', 'glibc'], 'linux-loong64-musl': ['linux', 'loong64', 'musl'],
  'linux-ppc64-gnu': ['linux', 'ppc64', 'glibc'], 'linux-riscv64-gnu': ['linux', 'riscv64', 'glibc'], 'linux-riscv64-musl': ['linux', 'riscv64', 'musl'],
  'linux-s390x-gnu': ['linux', 's390x', 'glibc'], 'openharmony-arm64': ['openharmony', 'arm64'], 'win32-arm64-msvc': ['win32', 'arm64'],
  'win32-ia32-msvc': ['win32', 'ia32'], 'win32-x64-msvc': ['win32', 'x64'],
};
const version = lock.packages['node_modules/unrs-resolver'].optionalDependencies['@unrs/resolver-binding-linux-x64-gnu'];
for (const [suffix, [os, cpu, libc]] of Object.entries(map)) {
  const key = `node_modules/@unrs/resolver-binding-${suffix}`;
  if (lock.packages[key]) continue;
  const entry = { version, cpu: [cpu], dev: true, license: 'MIT', optional: true, os: [os] };
  if (libc) entry.libc = [libc];
  lock.packages[key] = entry;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
fs.writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');

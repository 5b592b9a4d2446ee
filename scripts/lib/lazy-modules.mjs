// esbuild plugins that keep the extension's entry bundle small, so activation stays fast:
//  - lazyVendor: the heavy libraries (dockerode, pg, the notebook's helpers, yaml) go into dist/vendor.js,
//    loaded on first use. In dist/extension.js each is a stand-in whose export names are known at
//    build time; reading an export, calling or constructing loads dist/vendor.js (once). A Docker
//    client constructed before that is itself a stand-in until its first method call, so creating
//    the services at activation loads nothing.
//  - unusedModules: dockerode's BuildKit session (gRPC, protobuf) is never used here: left out.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const LAZY_MODULES = ['dockerode', 'pg', 'pg-cursor', 'csv-stringify/sync', 'dbgate-query-splitter', 'yaml'];
const UNUSED = ['@grpc/grpc-js', '@grpc/proto-loader'];

const runtime = `
'use strict';
let vendor;
const load = (name) => (vendor ??= require('./vendor.js'))[name]();
exports.lazy = function lazy(name, names, isFunction, esModule, lazyInstances) {
  let real;
  const get = () => (real ??= load(name));
  const target = isFunction ? function () {} : {};
  const own = new Set([...names, ...Reflect.ownKeys(target)]);
  return new Proxy(target, {
    get(t, k) { return k === '__esModule' ? esModule : Reflect.get(get(), k); },
    has(t, k) { return own.has(k); },
    ownKeys() { return [...own]; },
    getOwnPropertyDescriptor(t, k) {
      const d = Reflect.getOwnPropertyDescriptor(t, k);
      if (d && !d.configurable) return d;
      return own.has(k) ? { configurable: true, enumerable: true, writable: true, value: undefined } : undefined;
    },
    apply(t, self, args) { return Reflect.apply(get(), self, args); },
    construct(t, args) {
      if (!lazyInstances || real) return Reflect.construct(get(), args);
      // An instance that is created for real on first use (its methods are bound to it).
      let inst;
      const it = () => (inst ??= Reflect.construct(get(), args));
      return new Proxy({}, {
        get(_, k) { const v = Reflect.get(it(), k); return typeof v === 'function' ? v.bind(it()) : v; },
        set(_, k, v) { return Reflect.set(it(), k, v); },
        has(_, k) { return k in it(); },
      });
    },
  });
};
`;

export const lazyVendor = {
  name: 'lazy-vendor',
  setup(build) {
    const filter = new RegExp(`^(${LAZY_MODULES.map((m) => m.replace(/[/-]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'lazy-vendor' }));
    build.onResolve({ filter: /^pgha-lazy-runtime$/ }, () => ({ path: 'runtime', namespace: 'lazy-vendor-runtime' }));
    build.onResolve({ filter: /^\.\/vendor\.js$/ }, () => ({ path: './vendor.js', external: true }));
    build.onLoad({ filter: /^runtime$/, namespace: 'lazy-vendor-runtime' }, () => ({ contents: runtime, loader: 'js', resolveDir: '.' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-vendor' }, (a) => {
      const m = require(a.path);
      const names = Object.getOwnPropertyNames(m).filter((k) => !['length', 'name', 'prototype', 'arguments', 'caller', '__esModule'].includes(k));
      const args = [JSON.stringify(a.path), JSON.stringify(names), typeof m === 'function', m.__esModule === true, a.path === 'dockerode'];
      return { contents: `module.exports = require('pgha-lazy-runtime').lazy(${args.join(', ')});`, loader: 'js', resolveDir: '.' };
    });
  },
};

/** dist/vendor.js: one function per library, so loading the file runs none of them. */
export const vendorEntry = `module.exports = {\n${LAZY_MODULES.map((m) => `  ${JSON.stringify(m)}: () => require(${JSON.stringify(m)}),`).join('\n')}\n};\n`;

export const unusedModules = {
  name: 'unused-modules',
  setup(build) {
    const filter = new RegExp(`^(${UNUSED.map((m) => m.replace(/[/-]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'unused' }));
    build.onLoad({ filter: /.*/, namespace: 'unused' }, (a) => ({
      contents: `module.exports = new Proxy({}, { get(_, k) { if (k === '__esModule') return undefined; throw new Error(${JSON.stringify(`${a.path} is left out of this extension's bundle (dockerode's BuildKit sessions are not used)`)}); } });`,
      loader: 'js',
    }));
  },
};

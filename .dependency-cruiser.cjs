/** Import boundaries: shared/ runs in Node AND workerd; mixer and rack never import each other. */
module.exports = {
  forbidden: [
    {
      name: "shared-is-standalone",
      comment: "shared/ is used by both sides; it must not import either of them.",
      severity: "error",
      from: { path: "^shared/" },
      to: { path: "^(mixer-worker|rack-agent)/" },
    },
    {
      name: "shared-has-no-node-builtins",
      comment: "shared/ also runs in workerd without nodejs_compat: Web APIs only.",
      severity: "error",
      from: { path: "^shared/", pathNot: "\\.test\\.ts$" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "mixer-does-not-import-rack",
      severity: "error",
      from: { path: "^mixer-worker/" },
      to: { path: "^rack-agent/" },
    },
    {
      name: "rack-does-not-import-mixer",
      severity: "error",
      from: { path: "^rack-agent/" },
      to: { path: "^mixer-worker/" },
    },
    {
      name: "mixer-has-no-node-builtins",
      comment: "The mixer runs in workerd without nodejs_compat.",
      severity: "error",
      from: { path: "^mixer-worker/src/", pathNot: "\\.test\\.ts$" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "store-has-one-face",
      comment: "Outside mixer-worker/src/store, the engine is reached through store/index.ts only.",
      severity: "error",
      from: { path: "^mixer-worker/src/", pathNot: "^mixer-worker/src/store/|\\.test\\.ts$" },
      to: { path: "^mixer-worker/src/store/", pathNot: "^mixer-worker/src/store/index\\.ts$" },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^cloudflare:" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};

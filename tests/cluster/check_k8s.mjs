// SPDX-License-Identifier: MIT
//
// cluster.k8s_manifest: scripts/k8s/explore-indexed-job.yaml against the
// Kubernetes schema (the JSON schemas of the API, as packaged by the npm
// package kubernetes-models, installed by scripts/deps.sh into
// scripts/npm), offline: no cluster is contacted. Also checks
// what the schema cannot: an Indexed Job whose completions, parallelism and
// --shard count agree. Then a deliberately broken copy must be refused, so
// the check can fail.
//   node check_k8s.mjs MANIFEST NPM_DIR   (NPM_DIR: scripts/npm)
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const [manifestPath, npmDir] = process.argv.slice(2);
const require = createRequire(resolve(npmDir, "package.json"));
const { Job } = require("kubernetes-models/batch/v1");
const YAML = require("yaml");

function problems(job) {
  const out = [];
  try {
    new Job(job).validate();
  } catch (e) {
    out.push(`schema: ${e.message.split("\n")[0]}`);
  }
  const s = job.spec ?? {};
  if (s.completionMode !== "Indexed") out.push("spec.completionMode is not Indexed");
  if (s.completions !== s.parallelism) out.push("spec.completions != spec.parallelism");
  const text = JSON.stringify(s.template?.spec?.containers ?? []);
  const m = text.match(/--shard \\"\$JOB_COMPLETION_INDEX\/(\d+)\\"/);
  if (!m) out.push("no --shard \"$JOB_COMPLETION_INDEX/N\" in the container");
  else if (Number(m[1]) !== s.completions)
    out.push(`--shard .../${m[1]} but spec.completions is ${s.completions}`);
  return out;
}

let fail = 0;
const docs = YAML.parseAllDocuments(readFileSync(manifestPath, "utf8"));
for (const d of docs) if (d.errors.length) { console.log(`FAIL: YAML: ${d.errors[0].message}`); process.exit(1); }
const job = docs[0].toJS();
const p = problems(job);
if (p.length) { fail = 1; for (const x of p) console.log(`FAIL: ${manifestPath}: ${x}`); }
else console.log(`ok: ${manifestPath}: a valid batch/v1 Indexed Job of ${job.spec.completions} shards`);

const broken = [
  ["schema", "completions as a string", (j) => { j.spec.completions = "4"; j.spec.parallelism = "4"; }],
  ["schema", "a container name that is not a string", (j) => { j.spec.template.spec.containers[0].name = 7; }],
  ["schema", "a completion mode that does not exist", (j) => { j.spec.completionMode = "Sharded"; }],
  ["schema", "a pod without containers", (j) => { delete j.spec.template.spec.containers; }],
  ["--shard", "shards and completions disagree", (j) => { j.spec.completions = 8; j.spec.parallelism = 8; }],
];
for (const [by, what, change] of broken) {
  const j = structuredClone(job);
  change(j);
  const p = problems(j);
  if (p.some((x) => x.includes(by))) console.log(`ok: refused (${by}): ${what}: ${p[0]}`);
  else { console.log(`FAIL: accepted: ${what}`); fail = 1; }
}
process.exit(fail);

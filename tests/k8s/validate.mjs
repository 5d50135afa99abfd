#!/usr/bin/env node
// Offline validation of the deployment artefacts (docs/deployment.md):
//   1. `kubectl kustomize` renders k8s/base and every overlay;
//   2. every rendered object validates against the Kubernetes JSON schemas (kubernetes-models, ajv) and
//      carries no field unknown to its type;
//   3. a policy check of what the cluster issue requires (probes, rollout, PDB, shutdown grace, security
//      context, resources, secrets by reference, downward API, Orleans ids, TLS in prod);
//   4. a static check of the silo and gateway Dockerfiles.
// Prints one line per check ("ok - name" / "not ok - name: reason") and ends with "N passed, N failed";
// exits 1 when anything failed. Needs node_modules (npm ci) and kubectl; installs nothing.
//
// Usage: node tests/k8s/validate.mjs            (from anywhere; paths are relative to the repository)
//        KUBECTL=/path/to/kubectl node tests/k8s/validate.mjs
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { unknownFields } from "./strict-fields.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE_MODULES = path.join(ROOT, "node_modules");
const OVERLAYS = ["dev", "prod"];
const DEFAULT_SHUTDOWN_SECONDS = 20; // HomaBoneOptions.ShutdownTimeout
const SILO = "silo";
const GATEWAY = "gateway";

let passed = 0;
let failed = 0;
let capture = null; // the self-tests collect results here instead of printing them

/** Records one check: ok when `problems` is empty (or true), otherwise not ok with the reasons. */
function report(name, problems) {
  const list = problems === true ? [] : problems === false ? ["failed"] : [problems].flat().filter(Boolean);
  if (capture) {
    capture.push({ name, ok: list.length === 0, problems: list });
    return;
  }
  if (list.length === 0) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}: ${list.join("; ")}`);
  }
}

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

// ---------------------------------------------------------------------------------------------------
// Tools: the yaml parser and the schema models come from the project's node_modules (package-lock.json).
let YAML;
try {
  YAML = await import("yaml");
  report("npm packages present (yaml, kubernetes-models)", existsSync(path.join(NODE_MODULES, "kubernetes-models/package.json")) || "kubernetes-models is missing: run `npm ci` at the repository root");
} catch {
  report("npm packages present (yaml, kubernetes-models)", "yaml is missing: run `npm ci` at the repository root");
  finish();
}

function findKubectl() {
  // KUBECTL, when set, is the only candidate (so its absence is reported, not papered over).
  const candidates = process.env.KUBECTL ? [process.env.KUBECTL] : ["kubectl", "/usr/bin/kubectl", "/usr/local/bin/kubectl"];
  for (const c of candidates) {
    try {
      const out = execFileSync(c, ["version", "--client", "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      const info = JSON.parse(out);
      return { bin: c, version: info.clientVersion?.gitVersion ?? "?", kustomize: info.kustomizeVersion ?? "?" };
    } catch {
      // try the next one
    }
  }
  return null;
}

const kubectl = findKubectl();
report(
  `kubectl available${kubectl ? ` (${kubectl.version}, kustomize ${kubectl.kustomize})` : ""}`,
  kubectl
    ? /^v[5-9]\./.test(kubectl.kustomize) || `kustomize ${kubectl.kustomize} is too old: the manifests need kustomize v5 (kubectl 1.27 or later)`
    : "kubectl not found: install it (Debian package `kubectl`, or `kubernetes-client` where recent enough) or set KUBECTL; this check downloads nothing",
);

function render(dir) {
  return execFileSync(kubectl.bin, ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
}

// ---------------------------------------------------------------------------------------------------
// Helpers over rendered objects.
const kindIs = (o, kind) => o?.kind === kind;
const podSpec = (w) => w.spec?.template?.spec ?? {};
const podLabels = (w) => w.spec?.template?.metadata?.labels ?? {};
const component = (w) => podLabels(w)["app.kubernetes.io/component"];
const workloads = (objs) => objs.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind));
const selects = (selector, labels) =>
  !!selector && Object.keys(selector.matchLabels ?? {}).length > 0 &&
  Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v) && !(selector.matchExpressions?.length);
const SECRET_NAME = /pass(word|wd)?|secret|token|connection.?string|api.?key|credential|private.?key/i;
const SECRET_VALUE = /(password|pwd)\s*=|:\/\/[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----/i;

/** Parses a .NET TimeSpan ("00:00:20", "1.02:03:04", "20") into seconds. */
function timeSpanSeconds(text) {
  const s = String(text).trim();
  let m = s.match(/^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?$/);
  if (m) {
    const [, d = 0, h, mi, se = 0, frac = "0"] = m;
    return Number(d) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(se) + Number(`0.${frac}`);
  }
  m = s.match(/^(\d+)$/); // TimeSpan.Parse reads a bare integer as days
  return m ? Number(m[1]) * 86400 : NaN;
}

/** The effective environment of a container: envFrom ConfigMaps, then env (later wins, like the kubelet). */
function effectiveEnv(container, objs) {
  const env = new Map();
  for (const src of container.envFrom ?? []) {
    const cm = src.configMapRef && objs.find((o) => kindIs(o, "ConfigMap") && o.metadata.name === src.configMapRef.name);
    for (const [k, v] of Object.entries(cm?.data ?? {})) env.set(`${src.prefix ?? ""}${k}`, { value: v, from: `ConfigMap/${cm.metadata.name}` });
  }
  for (const e of container.env ?? []) env.set(e.name, e.valueFrom ? { valueFrom: e.valueFrom } : { value: e.value ?? "" });
  return env;
}

const namedPorts = (container) => new Map((container.ports ?? []).filter((p) => p.name).map((p) => [p.name, p.containerPort]));

// ---------------------------------------------------------------------------------------------------
// Schema validation of one object with kubernetes-models, plus unknown fields.
async function schemaProblems(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
  const modelPath = path.join("kubernetes-models", ...(group ? [group, version] : [version]), obj.kind);
  const dts = path.join(NODE_MODULES, `${modelPath}.d.ts`);
  const js = path.join(NODE_MODULES, `${modelPath}.js`);
  if (!existsSync(js)) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  const mod = await import(pathToFileURL(js).href);
  const Model = mod[obj.kind];
  const problems = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(...(e.errors ?? [{ instancePath: "", message: e.message }]).map((x) => `${x.instancePath || "/"} ${x.message}`));
  }
  problems.push(...unknownFields(obj, dts, NODE_MODULES));
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Policy: the cluster issue's requirements, per overlay.
function policyChecks(env, objs, rendered) {
  const p = (name, problems) => report(`policy ${env}: ${name}`, problems);
  const all = workloads(objs);
  const silo = all.find((w) => component(w) === SILO);
  const gateway = all.find((w) => component(w) === GATEWAY);
  p("silo workload (Deployment or StatefulSet) present", !!silo || "no workload with app.kubernetes.io/component=silo");
  p("gateway Deployment present", kindIs(gateway, "Deployment") || "no Deployment with app.kubernetes.io/component=gateway");

  const expectedPorts = {
    [SILO]: { http: "HomaBone__HttpPort", silo: "HomaBone__SiloPort", "orleans-gw": "HomaBone__OrleansGatewayPort" },
    [GATEWAY]: { grpc: "HomaBone__GrpcPort", http: "HomaBone__HttpPort" },
  };
  const defaultPorts = { HomaBone__GrpcPort: 5080, HomaBone__HttpPort: 5081, HomaBone__SiloPort: 11111, HomaBone__OrleansGatewayPort: 30000 };
  const replicasOf = {};

  for (const w of [silo, gateway].filter(Boolean)) {
    const comp = component(w);
    const ps = podSpec(w);
    const [c, ...sidecars] = ps.containers ?? [];
    const tag = `${comp}`;
    const env = effectiveEnv(c, objs);
    const envValue = (k) => env.get(k)?.value;
    const ports = namedPorts(c);
    const tls = !!envValue("HomaBone__TlsCertificatePath");
    replicasOf[comp] = w.spec.replicas;

    p(`${tag}: one application container`, sidecars.length === 0 || `unexpected extra containers: ${sidecars.map((s) => s.name).join(", ")}`);

    // Named ports agree with the configured ports.
    const portProblems = [];
    for (const [name, key] of Object.entries(expectedPorts[comp])) {
      const want = Number(envValue(key) ?? defaultPorts[key]);
      if (!ports.has(name)) portProblems.push(`missing named port ${name}`);
      else if (ports.get(name) !== want) portProblems.push(`port ${name} is ${ports.get(name)}, ${key} is ${want}`);
    }
    p(`${tag}: named ports ${Object.keys(expectedPorts[comp]).join(", ")} match HomaBone__*Port`, portProblems);
    p(`${tag}: binds a non-loopback address`, /^(0\.0\.0\.0|::)$/.test(envValue("HomaBone__BindAddress") ?? "") || "HomaBone__BindAddress must be 0.0.0.0 (or ::) so probes and peers reach the pod");

    // Probes: the three endpoints, on the HTTP port, liveness purely local.
    const probeProblems = [];
    for (const [probe, pathWanted] of [["startupProbe", "/health/startup"], ["readinessProbe", "/health/ready"], ["livenessProbe", "/health/live"]]) {
      const pr = c[probe];
      if (!pr) { probeProblems.push(`${probe} missing`); continue; }
      if (!pr.httpGet) { probeProblems.push(`${probe} is not an httpGet probe`); continue; }
      if (pr.httpGet.path !== pathWanted) probeProblems.push(`${probe} path ${pr.httpGet.path}, want ${pathWanted}`);
      if (pr.httpGet.port !== "http" && pr.httpGet.port !== ports.get("http")) probeProblems.push(`${probe} not on the http port`);
      if (pr.httpGet.host) probeProblems.push(`${probe} targets host ${pr.httpGet.host}`);
      const scheme = pr.httpGet.scheme ?? "HTTP";
      if (scheme !== (tls ? "HTTPS" : "HTTP")) probeProblems.push(`${probe} scheme ${scheme} but TLS is ${tls ? "on" : "off"}`);
    }
    p(`${tag}: startup/readiness/liveness probes on /health/startup, /health/ready, /health/live`, probeProblems);
    const live = c.livenessProbe?.httpGet;
    p(`${tag}: liveness purely local (/health/live on its own port, no exec, no other host)`,
      (live && live.path === "/health/live" && !live.host && !c.livenessProbe.exec) || "liveness must be the local /health/live endpoint");

    // Rollout.
    if (kindIs(w, "Deployment")) {
      const ru = w.spec.strategy?.rollingUpdate;
      p(`${tag}: RollingUpdate with maxUnavailable 0`,
        (w.spec.strategy?.type ?? "RollingUpdate") === "RollingUpdate" && ru && String(ru.maxUnavailable) === "0" && String(ru.maxSurge ?? "25%") !== "0"
          ? [] : `strategy ${JSON.stringify(w.spec.strategy)}`);
    } else {
      p(`${tag}: StatefulSet RollingUpdate`, (w.spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate" || "updateStrategy must be RollingUpdate");
    }

    // Shutdown: grace period above preStop sleep + the host's shutdown timeout.
    const shutdownText = envValue("HomaBone__ShutdownTimeout");
    const shutdown = shutdownText === undefined ? DEFAULT_SHUTDOWN_SECONDS : timeSpanSeconds(shutdownText);
    const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
    const grace = ps.terminationGracePeriodSeconds ?? 30;
    p(`${tag}: terminationGracePeriodSeconds (${grace}) > preStop (${preStop}) + ShutdownTimeout (${shutdown})`,
      Number.isFinite(shutdown) ? grace > preStop + shutdown || `grace ${grace}s leaves no margin` : `unreadable HomaBone__ShutdownTimeout ${shutdownText}`);
    p(`${tag}: preStop has no exec (the runtime image has no shell tools to rely on)`, !c.lifecycle?.preStop?.exec || "use lifecycle.preStop.sleep");

    // Security context.
    const psc = ps.securityContext ?? {};
    const sc = c.securityContext ?? {};
    const nonRoot = (sc.runAsNonRoot ?? psc.runAsNonRoot) === true;
    const uid = sc.runAsUser ?? psc.runAsUser;
    p(`${tag}: runAsNonRoot`, (nonRoot && uid !== 0) || "runAsNonRoot must be true (and runAsUser not 0)");
    p(`${tag}: readOnlyRootFilesystem`, sc.readOnlyRootFilesystem === true || "securityContext.readOnlyRootFilesystem must be true");
    p(`${tag}: no privilege escalation, all capabilities dropped`,
      [sc.allowPrivilegeEscalation === false || "allowPrivilegeEscalation must be false", (sc.capabilities?.drop ?? []).includes("ALL") || "capabilities.drop must include ALL", !sc.privileged || "privileged"]
        .filter((x) => x !== true));
    p(`${tag}: seccomp RuntimeDefault`, (sc.seccompProfile?.type ?? psc.seccompProfile?.type) === "RuntimeDefault" || "seccompProfile RuntimeDefault missing");
    const emptyDirs = new Set((ps.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
    const writable = (c.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath);
    const writableProblems = [];
    if (!writable.includes("/tmp")) writableProblems.push("/tmp is not an emptyDir");
    const dataDir = envValue("HomaBone__DataDirectory");
    if (comp === SILO && dataDir && !writable.some((m) => dataDir === m || dataDir.startsWith(`${m}/`))) writableProblems.push(`HomaBone__DataDirectory ${dataDir} is not on an emptyDir`);
    if (comp === SILO && !dataDir) writableProblems.push("HomaBone__DataDirectory is relative to the read-only /app");
    p(`${tag}: writable paths on emptyDir (${writable.join(", ") || "none"})`, writableProblems);

    // Service account token.
    const saName = ps.serviceAccountName ?? "default";
    const sa = objs.find((o) => kindIs(o, "ServiceAccount") && o.metadata.name === saName);
    p(`${tag}: automountServiceAccountToken false (pod and ServiceAccount ${saName})`,
      [ps.automountServiceAccountToken === false || "pod spec must set automountServiceAccountToken: false", !sa || sa.automountServiceAccountToken === false || `ServiceAccount ${saName} mounts its token`].filter((x) => x !== true));
    p(`${tag}: no RBAC needed, none granted`, !objs.some((o) => ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"].includes(o.kind)) || "RBAC objects present although Kubernetes hosting is not used");

    // Resources.
    const r = c.resources ?? {};
    p(`${tag}: resources (requests cpu+memory, limits memory)`,
      [r.requests?.cpu ? true : "requests.cpu", r.requests?.memory ? true : "requests.memory", r.limits?.memory ? true : "limits.memory"].filter((x) => x !== true).map((x) => `${x} missing`));

    // Image.
    const image = c.image ?? "";
    p(`${tag}: image pinned (${image})`, /@sha256:[0-9a-f]{64}$/.test(image) || (/:[^/:@]+$/.test(image) && !/:latest$/.test(image)) || "image needs an explicit tag (not latest) or digest");

    // Downward API and Orleans ids.
    const fieldRef = (name) => env.get(name)?.valueFrom?.fieldRef?.fieldPath;
    const downward = [];
    if (comp === SILO) {
      if (fieldRef("POD_NAME") !== "metadata.name") downward.push("POD_NAME must come from fieldRef metadata.name");
      if (fieldRef("POD_IP") !== "status.podIP") downward.push("POD_IP must come from fieldRef status.podIP");
    }
    p(`${tag}: downward API POD_NAME/POD_IP`, downward);
    const ids = [];
    for (const name of ["ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID"]) {
      const e = env.get(name);
      const fp = e?.valueFrom?.fieldRef?.fieldPath;
      if (!e) ids.push(`${name} missing`);
      else if (fp) {
        const label = fp.match(/^metadata\.labels\['(.+)'\]$/)?.[1];
        if (!label || !podLabels(w)[label]) ids.push(`${name} refers to ${fp}, which the pod template does not set`);
      } else if (!e.value) ids.push(`${name} empty`);
    }
    p(`${tag}: ORLEANS_SERVICE_ID and ORLEANS_CLUSTER_ID set`, ids);

    // Mode and external services by secret reference.
    if (comp === GATEWAY) p(`${tag}: HomaBone__Mode=Gateway`, envValue("HomaBone__Mode") === "Gateway" || `HomaBone__Mode is ${envValue("HomaBone__Mode")}`);
    const wantSecrets = comp === SILO ? ["HomaBone__RedisConnectionString", "HomaBone__PostgresConnectionString"] : ["HomaBone__RedisConnectionString"];
    p(`${tag}: ${wantSecrets.join(", ")} from secretKeyRef`,
      wantSecrets.filter((k) => !env.get(k)?.valueFrom?.secretKeyRef).map((k) => `${k} is not a secretKeyRef`));

    // TLS or explicit plaintext: the process refuses a plaintext non-loopback bind otherwise.
    const tlsProblems = [];
    if (tls) {
      const certDir = path.posix.dirname(envValue("HomaBone__TlsCertificatePath"));
      const keyPath = envValue("HomaBone__TlsKeyPath");
      if (!keyPath) tlsProblems.push("HomaBone__TlsKeyPath missing");
      const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === certDir);
      const vol = mount && (ps.volumes ?? []).find((v) => v.name === mount.name);
      if (!vol?.secret?.secretName) tlsProblems.push(`${certDir} is not mounted from a Secret`);
      if (mount && !mount.readOnly) tlsProblems.push(`${certDir} mount is not readOnly`);
      if (keyPath && path.posix.dirname(keyPath) !== certDir) tlsProblems.push("key and certificate are in different folders");
    } else if (String(envValue("HomaBone__AllowPlaintext")).toLowerCase() !== "true") {
      tlsProblems.push("no TLS certificate and HomaBone__AllowPlaintext is not true: the process would refuse to start");
    }
    p(`${tag}: ${tls ? "TLS certificate and key mounted from a Secret" : "plaintext explicitly allowed"}`, tlsProblems);
    if (env === "prod") p(`${tag}: TLS on (production)`, (tls && String(envValue("HomaBone__AllowPlaintext")).toLowerCase() !== "true") || "prod must serve TLS and must not allow plaintext");
  }

  // Disruption budget, services, autoscaler.
  const pdbs = objs.filter((o) => kindIs(o, "PodDisruptionBudget"));
  if (silo) {
    const pdb = pdbs.find((b) => selects(b.spec.selector, podLabels(silo)));
    p("PodDisruptionBudget selects the silo pods", pdb ? (pdb.spec.maxUnavailable !== undefined || pdb.spec.minAvailable !== undefined) || "budget sets neither maxUnavailable nor minAvailable" : "no PodDisruptionBudget matches the silo template labels");
    p("silo selector matches its own template", selects(silo.spec.selector, podLabels(silo)) || "selector does not match template labels");
  }
  if (gateway) {
    p("gateway selector matches its own template", selects(gateway.spec.selector, podLabels(gateway)) || "selector does not match template labels");
    const hpa = objs.find((o) => kindIs(o, "HorizontalPodAutoscaler") && o.spec.scaleTargetRef?.kind === "Deployment" && o.spec.scaleTargetRef?.name === gateway.metadata.name);
    p("HorizontalPodAutoscaler scales the gateway", hpa ? (hpa.spec.minReplicas ?? 1) <= hpa.spec.maxReplicas || "minReplicas > maxReplicas" : "no HPA targets the gateway Deployment");
    p("gateway Deployment leaves replicas to the HPA", gateway.spec.replicas === undefined || "spec.replicas would fight the HPA on every apply");
    const svc = objs.find((o) => kindIs(o, "Service") && o.spec.selector && Object.entries(o.spec.selector).every(([k, v]) => podLabels(gateway)[k] === v) && (o.spec.ports ?? []).some((pt) => pt.name === "grpc"));
    p("a Service exposes the gateway's grpc port", !!svc || "no Service selects the gateway pods with a grpc port");
    replicasOf.hpaMin = hpa?.spec.minReplicas;
  }
  // Every Service's named targetPort exists on the pods it selects.
  const svcProblems = [];
  for (const s of objs.filter((o) => kindIs(o, "Service") && o.spec.selector)) {
    const targets = all.filter((w) => Object.entries(s.spec.selector).every(([k, v]) => podLabels(w)[k] === v));
    if (targets.length === 0) svcProblems.push(`Service ${s.metadata.name} selects no workload`);
    for (const pt of s.spec.ports ?? []) {
      if (typeof pt.targetPort === "string" && !targets.every((w) => podSpec(w).containers.some((c) => namedPorts(c).has(pt.targetPort)))) {
        svcProblems.push(`Service ${s.metadata.name} targetPort ${pt.targetPort} not on its pods`);
      }
    }
  }
  p("Services select pods and name existing ports", svcProblems);
  const external = ["postgres", "redis"].filter((n) => !objs.some((o) => kindIs(o, "Service") && o.spec.type === "ExternalName" && o.metadata.name.includes(n)));
  p("PostgreSQL and Redis referenced as (ExternalName) Services", external.map((n) => `no ExternalName Service for ${n}`));

  // Secrets only by reference: no Secret objects, no literal credentials anywhere.
  const secretProblems = [];
  for (const o of objs) {
    if (kindIs(o, "Secret")) secretProblems.push(`Secret/${o.metadata.name} is committed`);
    if (kindIs(o, "ConfigMap")) {
      for (const [k, v] of Object.entries(o.data ?? {})) {
        if (SECRET_NAME.test(k) || SECRET_VALUE.test(String(v))) secretProblems.push(`ConfigMap/${o.metadata.name} key ${k} looks like a credential`);
      }
    }
  }
  for (const w of all) {
    for (const c of [...(podSpec(w).containers ?? []), ...(podSpec(w).initContainers ?? [])]) {
      for (const e of c.env ?? []) {
        if (e.value !== undefined && (SECRET_NAME.test(e.name) || SECRET_VALUE.test(e.value))) secretProblems.push(`${w.metadata.name}/${c.name} env ${e.name} has a literal value`);
      }
    }
  }
  if (SECRET_VALUE.test(rendered)) secretProblems.push("rendered output contains something that looks like a credential");
  p("secrets only by reference (secretKeyRef / secret volumes)", secretProblems);

  const namespaces = new Set(objs.filter((o) => !["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(o.kind)).map((o) => o.metadata.namespace));
  p(`one namespace (${[...namespaces].join(", ")})`, (namespaces.size === 1 && !!([...namespaces][0])) || `objects in ${[...namespaces].map(String).join(", ")}`);
  return replicasOf;
}

// ---------------------------------------------------------------------------------------------------
// Dockerfiles: parsed statically (Docker is not needed).
function parseDockerfile(text) {
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const stages = [];
  const args = new Map();
  for (const line of lines) {
    const [, instr, rest = ""] = line.match(/^(\w+)\s*(.*)$/) ?? [];
    const op = instr?.toUpperCase();
    if (op === "ARG" && stages.length === 0) {
      const [k, v] = rest.split("=");
      args.set(k.trim(), v?.trim());
    }
    if (op === "FROM") {
      const m = rest.match(/^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i);
      const image = (m?.[1] ?? rest).replace(/\$\{?(\w+)\}?/g, (_, a) => args.get(a) ?? `$${a}`);
      stages.push({ image, name: m?.[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1).instructions.push({ op, rest });
    }
  }
  return stages;
}

function dockerfileChecks(file, project, manifestPorts, text = existsSync(file) ? readFileSync(file, "utf8") : null) {
  const rel = path.relative(ROOT, file);
  const d = (name, problems) => report(`dockerfile ${rel}: ${name}`, problems);
  if (text === null) {
    d("exists", "missing");
    return;
  }
  const stages = parseDockerfile(text);
  const final = stages.at(-1) ?? { instructions: [] };
  const names = new Set(stages.map((s) => s.name).filter(Boolean));
  d(`multi-stage (${stages.length} stages)`, stages.length >= 2 || "a build stage and a runtime stage are needed");
  const pinProblems = [];
  for (const s of stages) {
    if (names.has(s.image)) continue;
    const m = s.image.match(/^([^@]+?)(?::([^:/@]+))?(?:@(sha256:[0-9a-f]+))?$/);
    const tagName = m?.[2];
    const digest = m?.[3];
    if (s.image.includes("$")) pinProblems.push(`${s.image} uses an undefined build argument`);
    else if (!tagName) pinProblems.push(`${s.image} has no tag`);
    else if (tagName === "latest" || !/\d+\.\d+\.\d+/.test(tagName)) pinProblems.push(`${s.image} is not an exact version tag (major.minor.patch)`);
    if (digest && !/^sha256:[0-9a-f]{64}$/.test(digest)) pinProblems.push(`${s.image} has a malformed digest`);
  }
  d("base images pinned to exact version tags (no latest)", pinProblems);
  d("final stage is the ASP.NET runtime image, not the SDK", (/\/dotnet\/aspnet:/.test(final.image) && !/\/sdk:/.test(final.image)) || `final stage is ${final.image}`);
  const user = final.instructions.filter((i) => i.op === "USER").at(-1)?.rest.split(":")[0];
  d(`non-root USER in final stage (${user ?? "none"})`, (!!user && !["root", "0"].includes(user)) || "the final stage must switch to a non-root user (app, 1654)");
  const all = stages.flatMap((s) => s.instructions);
  d("no ADD of URLs", all.filter((i) => i.op === "ADD" && /\b(https?|ftp|git):\/\//i.test(i.rest)).map((i) => `ADD ${i.rest}`));
  const secretProblems = [];
  for (const i of all) {
    if (["ENV", "ARG"].includes(i.op)) {
      for (const k of i.rest.match(/(\w+)(?==|\s|$)/g) ?? []) if (SECRET_NAME.test(k)) secretProblems.push(`${i.op} ${k}`);
      if (SECRET_VALUE.test(i.rest)) secretProblems.push(`${i.op} value looks like a credential`);
    }
    if (["COPY", "ADD"].includes(i.op) && /\.(pfx|p12|key|pem)\b|\.env\b|appsettings\.(Development|Local)\.json/i.test(i.rest)) secretProblems.push(`${i.op} ${i.rest}`);
  }
  d("no secrets (ENV/ARG credentials, key files)", secretProblems);
  const exposed = new Set(final.instructions.filter((i) => i.op === "EXPOSE").flatMap((i) => i.rest.split(/\s+/)).map((p) => Number(p.split("/")[0])));
  const missing = [...manifestPorts].filter((p) => !exposed.has(p));
  d(`EXPOSE the container ports (${[...manifestPorts].join(", ")})`, missing.map((p) => `port ${p} not exposed`));
  const entry = final.instructions.filter((i) => i.op === "ENTRYPOINT").at(-1)?.rest;
  let entryArgs = null;
  try { entryArgs = entry && JSON.parse(entry); } catch { /* shell form */ }
  d(`ENTRYPOINT ["dotnet", "${project}.dll"] (exec form)`, (Array.isArray(entryArgs) && entryArgs[0] === "dotnet" && entryArgs[1] === `${project}.dll`) || `ENTRYPOINT is ${entry}`);
  d("no HEALTHCHECK (Kubernetes probes own health)", !all.some((i) => i.op === "HEALTHCHECK") || "HEALTHCHECK present");
}

// ---------------------------------------------------------------------------------------------------
const replicas = {};
const byEnv = {};
const portsByComponent = { [SILO]: new Set(), [GATEWAY]: new Set() };
for (const target of ["base", ...OVERLAYS.map((o) => `overlays/${o}`)]) {
  const dir = path.join(ROOT, "k8s", target);
  let rendered = null;
  if (kubectl && existsSync(dir)) {
    try {
      rendered = render(dir);
      report(`render k8s/${target}`, true);
    } catch (e) {
      report(`render k8s/${target}`, String(e.stderr || e.message).trim().split("\n")[0]);
    }
  } else {
    report(`render k8s/${target}`, kubectl ? `${dir} missing` : "kubectl unavailable");
  }
  if (rendered === null || target === "base") continue;
  const env = path.basename(target);
  let objs;
  try {
    objs = YAML.parseAllDocuments(rendered).map((doc) => {
      if (doc.errors.length) throw doc.errors[0];
      return doc.toJS();
    }).filter(Boolean);
    report(`parse ${env} (${objs.length} objects)`, objs.length > 0 || "no objects");
  } catch (e) {
    report(`parse ${env}`, e.message);
    continue;
  }
  for (const o of objs) report(`schema ${env}: ${o.kind}/${o.metadata?.name}`, await schemaProblems(o));
  byEnv[env] = objs;
  replicas[env] = policyChecks(env, objs, rendered);
  for (const w of workloads(objs)) {
    const set = portsByComponent[component(w)];
    for (const c of podSpec(w).containers ?? []) for (const pt of c.ports ?? []) set?.add(pt.containerPort);
  }
}
if (replicas.dev && replicas.prod) {
  report("policy prod: more silo replicas than dev", (replicas.prod[SILO] ?? 1) > (replicas.dev[SILO] ?? 1) || `prod ${replicas.prod[SILO]}, dev ${replicas.dev[SILO]}`);
  report("policy prod: higher gateway HPA minimum than dev", (replicas.prod.hpaMin ?? 1) > (replicas.dev.hpaMin ?? 1) || `prod ${replicas.prod.hpaMin}, dev ${replicas.dev.hpaMin}`);
}

dockerfileChecks(path.join(ROOT, "src/Silo/Dockerfile"), "HomaBone.Silo", portsByComponent[SILO]);
dockerfileChecks(path.join(ROOT, "src/Gateway/Dockerfile"), "HomaBone.Gateway", portsByComponent[GATEWAY]);
const ignore = path.join(ROOT, ".dockerignore");
report(".dockerignore keeps bin/ and obj/ out of the build context",
  existsSync(ignore) ? (/^\*\*\/bin\/?$/m.test(readFileSync(ignore, "utf8")) && /^\*\*\/obj\/?$/m.test(readFileSync(ignore, "utf8"))) || "add **/bin and **/obj" : ".dockerignore missing");

// ---------------------------------------------------------------------------------------------------
// Self-tests: every rule must actually fail on a manifest or Dockerfile that breaks it (mutations of the
// real, rendered prod overlay and of the real silo Dockerfile, in memory).
async function catches(description, pattern, run) {
  capture = [];
  try {
    await run();
  } catch (e) {
    capture.push({ name: "exception", ok: false, problems: [e.message] });
  }
  const results = capture;
  capture = null;
  const hit = results.find((r) => !r.ok && pattern.test(r.name));
  report(`self-test: rejects ${description}${hit ? ` [${hit.problems[0]}]` : ""}`, !!hit || `no failing check matched ${pattern}`);
}

if (byEnv.prod) {
  const base = byEnv.prod;
  const deployment = (objs, comp) => objs.find((o) => kindIs(o, "Deployment") && component(o) === comp);
  const main = (objs, comp) => podSpec(deployment(objs, comp)).containers[0];
  const envVar = (c, name) => c.env.find((e) => e.name === name);
  const policy = (description, pattern, mutate) =>
    catches(description, pattern, () => {
      const objs = structuredClone(base);
      mutate(objs);
      policyChecks("prod", objs, objs.map((o) => YAML.stringify(o)).join("---\n"));
    });
  await policy("a liveness probe on /health/ready", /liveness purely local/, (o) => { main(o, SILO).livenessProbe.httpGet.path = "/health/ready"; });
  await policy("a missing startup probe", /probes on/, (o) => { delete main(o, GATEWAY).startupProbe; });
  await policy("an HTTP probe while TLS is on", /probes on/, (o) => { main(o, SILO).readinessProbe.httpGet.scheme = "HTTP"; });
  await policy("a silo without PodDisruptionBudget", /PodDisruptionBudget selects the silo/, (o) => { o.splice(o.findIndex((x) => kindIs(x, "PodDisruptionBudget") && x.metadata.name.includes(SILO)), 1); });
  await policy("maxUnavailable 1", /silo: RollingUpdate with maxUnavailable 0/, (o) => { deployment(o, SILO).spec.strategy.rollingUpdate.maxUnavailable = 1; });
  await policy("a grace period equal to the shutdown timeout", /silo: terminationGracePeriodSeconds/, (o) => { podSpec(deployment(o, SILO)).terminationGracePeriodSeconds = 30; });
  await policy("a ShutdownTimeout raised above the grace period", /terminationGracePeriodSeconds/, (o) => { o.find((x) => kindIs(x, "ConfigMap")).data.HomaBone__ShutdownTimeout = "00:01:00"; });
  await policy("a writable root filesystem", /readOnlyRootFilesystem/, (o) => { main(o, SILO).securityContext.readOnlyRootFilesystem = false; });
  await policy("running as root", /runAsNonRoot/, (o) => { const ps = podSpec(deployment(o, GATEWAY)); delete ps.securityContext.runAsNonRoot; delete main(o, GATEWAY).securityContext.runAsNonRoot; ps.securityContext.runAsUser = 0; main(o, GATEWAY).securityContext.runAsUser = 0; });
  await policy("a mounted service account token", /automountServiceAccountToken/, (o) => { podSpec(deployment(o, SILO)).automountServiceAccountToken = true; });
  await policy("a container without memory limit", /resources/, (o) => { delete main(o, SILO).resources.limits; });
  await policy("POD_IP as a literal", /downward API/, (o) => { envVar(main(o, SILO), "POD_IP").value = "10.0.0.1"; delete envVar(main(o, SILO), "POD_IP").valueFrom; });
  await policy("ORLEANS_CLUSTER_ID from a label the pod lacks", /ORLEANS_SERVICE_ID and ORLEANS_CLUSTER_ID/, (o) => { delete deployment(o, SILO).spec.template.metadata.labels["orleans/clusterId"]; });
  await policy("a literal PostgreSQL connection string with a password", /secretKeyRef|secrets only by reference/, (o) => { const e = envVar(main(o, SILO), "HomaBone__PostgresConnectionString"); delete e.valueFrom; e.value = "Host=db;Username=u;Password=p"; });
  await policy("a committed Secret", /secrets only by reference/, (o) => { o.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "homabone-redis", namespace: "homabone" }, stringData: { connectionString: "redis:6379" } }); });
  await policy("an image tagged latest", /image pinned/, (o) => { main(o, GATEWAY).image = "homabone/gateway:latest"; });
  await policy("a gateway in co-hosted mode", /HomaBone__Mode=Gateway/, (o) => { envVar(main(o, GATEWAY), "HomaBone__Mode").value = "CoHosted"; });
  await policy("a gateway without autoscaler", /HorizontalPodAutoscaler scales the gateway/, (o) => { o.splice(o.findIndex((x) => kindIs(x, "HorizontalPodAutoscaler")), 1); });
  await policy("a TLS path without the secret volume", /TLS/, (o) => { const ps = podSpec(deployment(o, GATEWAY)); ps.volumes = ps.volumes.filter((v) => !v.secret); });
  await policy("a named port that disagrees with HomaBone__GrpcPort", /named ports/, (o) => { main(o, GATEWAY).ports.find((x) => x.name === "grpc").containerPort = 8080; });

  const schema = (description, mutate) =>
    catches(description, /^schema/, async () => {
      const d = structuredClone(deployment(base, SILO));
      mutate(d);
      report("schema mutated", await schemaProblems(d));
    });
  await schema("a misspelt field (readinesProbe)", (d) => { const c = podSpec(d).containers[0]; c.readinesProbe = c.readinessProbe; });
  await schema("a string where the schema wants an integer", (d) => { podSpec(d).containers[0].ports[0].containerPort = "5081"; });
  await schema("a value outside an enum", (d) => { podSpec(d).containers[0].imagePullPolicy = "Sometimes"; });
}

const siloDockerfile = path.join(ROOT, "src/Silo/Dockerfile");
if (existsSync(siloDockerfile)) {
  const original = readFileSync(siloDockerfile, "utf8");
  const docker = (description, pattern, edit) =>
    catches(description, pattern, () => dockerfileChecks(siloDockerfile, "HomaBone.Silo", new Set([5081, 11111, 30000]), edit(original)));
  await docker("FROM ...:latest", /pinned to exact version tags/, (t) => t.replace(/aspnet:\S+/, "aspnet:latest"));
  await docker("a floating major.minor tag", /pinned to exact version tags/, (t) => t.replace(/sdk:\S+/, "sdk:10.0"));
  await docker("no USER in the final stage", /non-root USER/, (t) => t.replace(/^USER .*$/m, ""));
  await docker("USER root", /non-root USER/, (t) => t.replace(/^USER .*$/m, "USER root"));
  await docker("ADD of a URL", /no ADD of URLs/, (t) => `${t}\nADD https://example.invalid/tool.tar.gz /opt/\n`);
  await docker("an ENV password", /no secrets/, (t) => `${t}\nENV DB_PASSWORD=hunter2\n`);
  await docker("a single stage", /multi-stage/, (t) => t.replace(/^FROM .* AS build[\s\S]*?(?=^FROM )/m, ""));
  await docker("a missing EXPOSE", /EXPOSE/, (t) => t.replace(/^EXPOSE .*$/m, "EXPOSE 5081"));
  await docker("a shell-form ENTRYPOINT", /ENTRYPOINT/, (t) => t.replace(/^ENTRYPOINT .*$/m, "ENTRYPOINT dotnet HomaBone.Silo.dll"));
}

finish();

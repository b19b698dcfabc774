#!/usr/bin/env bash
# s3-test-server.sh - local S3-compatible server for tests (loopback only).
#
# ama's copy of shared/tools/s3-test-server.sh, with the same behaviour; the
# package is pinned by t/s3/package.json and t/s3/package-lock.json (npm ci)
# and installed into the build tree, never into the source tree.
#
# Server: the npm package @20minutes/s3rver (a maintained fork of s3rver that
# verifies AWS SigV4 header signatures), run under Node.js with a small wrapper
# that adds what the package lacks:
#   * custom access key / secret (the package hard-codes S3RVER/S3RVER)
#   * rejects unsigned (anonymous) requests with 403 AccessDenied
#   * checks Content-MD5 (400 BadDigest / InvalidDigest) and a hex
#     x-amz-content-sha256 (400 XAmzContentSHA256Mismatch) before storing:
#     a PutObject body goes to a temporary name beside the object and is
#     renamed into place only when both hold (the package wrote in place,
#     so a cut or refused upload could replace an object); other checked
#     bodies are held (in memory up to 8 MiB) until checked
#   * no per-request work for nothing: the package's request logger runs
#     only with S3TS_VERBOSE=1, and bucket cors/website configurations are
#     read once (and again after they change), not on every request
#   * PutObject preconditions If-None-Match: * and If-Match: "<etag>" (412),
#     checked in the same step as the write they guard (of two racing creates
#     of one key, one gets 200 and the other 412)
#   * an object's files (bytes, ETag, metadata) are each written whole (a
#     temporary name, then rename), and the writes and reads of one key take
#     turns: concurrent writers leave the last one's object whole, as AWS's
#     last-writer-wins does; a reader sees one writer's bytes, ETag and
#     metadata (the package wrote them in place, one after the other: a
#     0-byte metadata file made HEAD answer 500 for good); a PUT racing the
#     delete that removed its (empty) folder makes the folder again (was 500)
#   * CopyObject and UploadPartCopy honour x-amz-copy-source-if-match and
#     -if-none-match (412; the fault no-copy-if-match ignores the first, as
#     some stores do); a copy's ETag is the MD5 of the bytes copied, as on AWS
#   * multipart as on AWS: the ETag of a completed upload is the MD5 of its
#     parts' binary MD5s, "-" and the number of parts; a completion naming a
#     part by another ETag is refused (400 InvalidPart); a part for an upload
#     that does not exist gets 404 NoSuchUpload
#   * AbortMultipartUpload (DELETE ?uploadId=, 204; the package answers 405)
#   * ListMultipartUploads (GET /bucket?uploads; the package answers 501):
#     prefix, key-marker, upload-id-marker, max-uploads, encoding-type=url
#     (a delimiter gets 501)
#   * XML text escaped once, not twice (the package's own escaping plus
#     fast-xml-parser's made "&amp;amp;" of a key's "&" in listings)
#   * runs node with --openssl-legacy-provider: the package's ListObjectsV2
#     continuation tokens use DES, which Node 17+ refuses otherwise (HTTP 500)
#   * read-only keys and per-bucket key limits (checked after the signature),
#     fault injection and a request log: see Environment and Faults below
# Needs: bash, node and npm (the npm registry), flock. No root needed
# unless node is missing (then it tries apt-get install nodejs npm). With a
# node older than 20 (Debian 12 has 18), node 20 itself is fetched from the
# npm registry (node-linux-ARCH, pinned) into S3TS_HOME.
#
# Usage:
#   s3-test-server.sh start PORT DATADIR [ACCESS_KEY [SECRET_KEY]]
#       Installs the server if missing, starts it on 127.0.0.1:PORT storing
#       buckets under DATADIR, waits until it answers, prints its PID on
#       stdout. PORT 0 picks a free port; the port is written to
#       DATADIR/.s3rver.port. Log: DATADIR/.s3rver.log. PID: DATADIR/.s3rver.pid
#       Defaults: ACCESS_KEY=AMATESTKEY SECRET_KEY=AMATESTSECRET
#       Each start also rewrites DATADIR/.s3rver.faults from S3TS_FAULTS (or
#       removes it), empties DATADIR/.s3rver.faultlog, and empties (with
#       S3TS_REQLOG=1) or removes DATADIR/.s3rver.requests.
#   s3-test-server.sh stop DATADIR|PID
#   s3-test-server.sh install
# Environment:
#   S3TS_HOME  where the npm package is installed (default
#              $AMA_BUILD_DIR/t/.s3-test-server; without AMA_BUILD_DIR,
#              ${XDG_CACHE_HOME:-$HOME/.cache}/ama-s3-test-server)
#   S3TS_PKG   npm spec of the server (default @20minutes/s3rver@4.0.4,
#              installed with npm ci from t/s3/package-lock.json; another
#              spec is installed with npm install, unpinned. s3rver@3.7.1
#              also works but does NOT verify SigV4 signatures)
#   S3TS_REQUIRE_AUTH=0  accept unsigned requests too (the key limits below
#                        do not apply to them)
#   S3TS_VERBOSE=1       log every request to DATADIR/.s3rver.log
#   S3TS_TIMEOUT         seconds to wait for start-up (default 30)
#   S3TS_KEYS="KEY1:SECRET1,KEY2:SECRET2"
#       extra key pairs with the same full access as ACCESS_KEY (limit them
#       to some buckets with S3TS_KEY_BUCKETS).
#   S3TS_READONLY_KEYS="KEY1:SECRET1,KEY2:SECRET2"
#       extra key pairs that may only GET and HEAD (read, list). Any other
#       method (PUT, POST, DELETE: uploads, copies, multipart, deletes, bucket
#       creation) gets 403 AccessDenied before anything is changed.
#   S3TS_KEY_BUCKETS="KEY1=bucketa,bucketb;KEY2=bucketc"
#       limits each KEY (ACCESS_KEY, an S3TS_KEYS key or a read-only key) to the listed buckets:
#       403 AccessDenied for other buckets, for an x-amz-copy-source in another
#       bucket and for ListBuckets (GET /). Unlisted keys may use all buckets.
#   S3TS_FAULTS="RULE;RULE"  fault rules (below) written to
#                        DATADIR/.s3rver.faults at start; default: no faults
#   S3TS_SEED=STRING     seeds the fault coin flips (default: random; the seed
#                        is written to the log). The same seed and the same
#                        request sequence give the same faults.
#   S3TS_REQLOG=1        append "METHOD path?query status access-key-id" per
#                        request to DATADIR/.s3rver.requests, written before the
#                        reply is sent. Status 000: connection dropped by a
#                        fault; key "-": unsigned; signatures show as REDACTED.
#                        (start's own readiness probe is left out of the log
#                        and of the faults.)
# Faults (off by default): DATADIR/.s3rver.faults holds one rule a line (also
# ";"-separated; "#" starts a comment). It is re-read on every request, so a
# test can rewrite it (write a temp file, then mv) or remove it at run time.
#   status CODE P    answer CODE with S3 error XML (503 SlowDown, 500
#                    InternalError, ...) before auth and storage
#   reset P          drop the connection (TCP RST) before anything is stored
#   reset-after P    handle the request (storage changes), then drop the
#                    connection instead of answering
#   truncate P       GET with a 2xx answer and a non-empty body: send the
#                    headers and half the body, then close the connection
#   delay MS [P]     wait MS milliseconds before handling (delays add up)
#   no-copy-if-match P  a copy (CopyObject, UploadPartCopy) ignores its
#                    x-amz-copy-source-if-match, as stores that lack it do
# P is a probability: 0.3 or 30%. Optional, in this order, after those: a
# method filter (PUT, or PUT,POST,DELETE; * = any), a key prefix (matched
# against the object key; against /bucket/key when it starts with "/"), and
# times=N (the rule stops after N faults; counted since the file last
# changed). Example: "status 503 0.5 PUT staging/ times=3". Per request: the
# delays, no-copy-if-match, then the first status/reset rule whose coin comes
# up; reset-after
# and truncate are tried once the request is handled. Each matching rule
# with 0 < P < 1 takes one random draw when tried. Faults hit every key and
# unsigned requests. Each injected fault appends "TIME METHOD path?query
# KIND" to DATADIR/.s3rver.faultlog (KIND: status:503, reset, reset-after,
# truncate, delay:200, no-copy-if-match). A malformed rule fails start (S3TS_FAULTS) or, at
# run time, answers every request with 400 InvalidFaultRule until fixed
# (details in DATADIR/.s3rver.log).
set -euo pipefail

PINNED_SPEC="@20minutes/s3rver@4.0.4"
NODE_PIN=20.19.5   # node's build from the npm registry when the system's is older than 20
PKG_SPEC="${S3TS_PKG:-$PINNED_SPEC}"
PKG_NAME="${PKG_SPEC%@*}"; [ -n "$PKG_NAME" ] || PKG_NAME="$PKG_SPEC"
# t/s3/ beside this script's folder holds package.json and package-lock.json
LOCK_DIR="$(cd "$(dirname "$0")/../s3" 2>/dev/null && pwd || true)"
if [ -n "${AMA_BUILD_DIR:-}" ]; then
    S3TS_HOME="${S3TS_HOME:-$AMA_BUILD_DIR/t/.s3-test-server}"
else
    S3TS_HOME="${S3TS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ama-s3-test-server}"
fi

die() { echo "s3-test-server: $*" >&2; exit 1; }

ensure_node() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || die "node and npm are required"
        echo "s3-test-server: installing nodejs and npm with apt-get" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >&2 ||
            { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >&2; }
    fi
    NODE=node
    local major; major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -lt "${S3TS_NODE_MIN:-20}" ] || return 0
    # The package wants node >= 20; Debian 12 has 18. The npm registry
    # carries node's own builds (node-linux-ARCH), so fetch one there.
    local arch; case "$(uname -m)" in
        x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;;
    esac
    local spec="node-linux-$arch@$NODE_PIN" dir="$S3TS_HOME/node-$NODE_PIN"
    NODE="$dir/node_modules/node-linux-$arch/bin/node"
    if [ ! -x "$NODE" ]; then
        echo "s3-test-server: node $major is too old; npm install $spec into $dir" >&2
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$spec" >&2 ||
            die "npm install $spec failed"
    fi
    "$NODE" --version >/dev/null 2>&1 || die "$NODE does not run"
}

write_wrapper() {
    cat > "$S3TS_HOME/serve.js.tmp" <<'EOF'
'use strict';
// node serve.js PKG ADDRESS PORT DATADIR ; credentials in S3_ACCESS_KEY / S3_SECRET_KEY,
// options in S3TS_* (see s3-test-server.sh); fault rules in DATADIR/.s3rver.faults
const fs = require('fs'), os = require('os'), path = require('path'), crypto = require('crypto');
const { pipeline } = require('stream/promises');
const { Readable, Transform, pipeline: streamPipeline } = require('stream');
const [pkg, address, port, dir] = process.argv.slice(2);
const pkgdir = path.dirname(require.resolve(pkg + '/package.json', { paths: [__dirname] }));
// The package escapes XML text itself (he.escape in a tagValueProcessor) and
// fast-xml-parser's XMLBuilder escapes it again (processEntities is on by
// default), so a key holding & ' < > came out of a listing as "&amp;amp;".
// Its builders that escape by themselves get processEntities off: once each.
(() => {
  const fxpPath = require.resolve('fast-xml-parser', { paths: [pkgdir] });
  const fxp = require(fxpPath), Builder = fxp.XMLBuilder;
  function XMLBuilder(opts) {
    return new Builder(opts && opts.tagValueProcessor ? Object.assign({}, opts, { processEntities: false }) : opts);
  }
  require.cache[fxpPath].exports = Object.assign({}, fxp, { XMLBuilder });
})();
// The package formats a log line for every request (koa-logger: colours, sizes, times)
// and hands it to a logger that drops it unless S3TS_VERBOSE=1: a tenth of the server's
// CPU for nothing. Quiet, the middleware only passes the request on.
if (process.env.S3TS_VERBOSE !== '1') {
  const klPath = require.resolve('koa-logger', { paths: [pkgdir] });
  require.cache[klPath] = { id: klPath, filename: klPath, loaded: true,
    exports: () => function logger(ctx, next) { return next(); } };
}
const S3rver = require(pkgdir);
const S3Error = require(path.join(pkgdir, 'lib/models/error'));
const S3Object = require(path.join(pkgdir, 'lib/models/object'));
const { concatStreams } = require(path.join(pkgdir, 'lib/utils'));
const Store = require(path.join(pkgdir, 'lib/stores/filesystem'));
const err = (code, msg, status) => Object.assign(new S3Error(code, msg), status ? { status, expose: true } : {});
const preconditionFailed = () => err('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
const noSuchKey = () => err('NoSuchKey', 'The specified key does not exist.');
// the koa context of the request a store call is made for (the package does not pass it)
const { AsyncLocalStorage } = require('async_hooks');
const requestOf = new AsyncLocalStorage();
// Every request reads the bucket's cors and website configurations from disk (two file
// reads and XML parses a request). They change only through this store: kept in memory,
// dropped when one is put or deleted, or the bucket goes.
(() => {
  const sub = new Map(), get = Store.prototype.getSubresource, put = Store.prototype.putSubresource,
    del = Store.prototype.deleteSubresource, delBucket = Store.prototype.deleteBucket;
  Store.prototype.getSubresource = async function getSubresource(bucket, key, type) {
    if (key !== undefined) return get.call(this, bucket, key, type);
    const k = `${bucket}\0${type}`;
    if (!sub.has(k)) sub.set(k, await get.call(this, bucket, key, type));
    return sub.get(k);
  };
  Store.prototype.putSubresource = async function putSubresource(bucket, key, res) {
    sub.delete(`${bucket}\0${res.type}`);
    try { return await put.call(this, bucket, key, res); } finally { sub.delete(`${bucket}\0${res.type}`); }
  };
  Store.prototype.deleteSubresource = async function deleteSubresource(bucket, key, type) {
    sub.delete(`${bucket}\0${type}`);
    try { return await del.call(this, bucket, key, type); } finally { sub.delete(`${bucket}\0${type}`); }
  };
  Store.prototype.deleteBucket = async function deleteBucket(bucket) {
    try { return await delBucket.call(this, bucket); } finally { sub.clear(); }
  };
})();
// ---- objects: whole, one writer at a time, preconditions in the same step as the write
// The package keeps an object in three files (its bytes, its ETag in .md5, its metadata in
// .json) and wrote each in place, one after the other: concurrent writes of one key left
// one writer's bytes under another's ETag, a reader could catch a 0-byte .json (HEAD then
// answered 500 for good), a PUT racing a DELETE in one folder found the folder removed
// (500), and If-None-Match was checked apart from the write it guarded, so two creates
// could both succeed. Here every file is written whole under a temporary name and renamed;
// whatever changes or reads one key's files does it holding that key's lock, so writers
// take turns (the last one wins, as on AWS), a reader sees one writer's bytes, ETag and
// metadata together, and a precondition is checked in the step that writes.
const checks = new WeakMap(); // a PutObject body -> the digests its request claims
const locks = new Map();
async function withKey(bucket, key, fn) {
  const k = `${bucket}\0${key}`, prev = locks.get(k) || Promise.resolve();
  let release;
  const mine = new Promise((resolve) => { release = resolve; });
  const tail = prev.then(() => mine);
  locks.set(k, tail);
  await prev;
  try { return await fn(); } finally {
    release();
    if (locks.get(k) === tail) locks.delete(k);
  }
}
let tmpSeq = 0; // temporary names: pid and a count, unique in one data directory's server
const tmpName = (file) => `${file}.s3ts-${process.pid}-${++tmpSeq}`;
// fn() makes a file in file's folder, made first. A delete that found the folder empty
// may remove it meanwhile (the mkdir, or fn, then fails with ENOENT): make it again.
async function inFolder(file, fn) {
  for (let i = 0; ; i++) {
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      return await fn();
    } catch (e) { if (e.code !== 'ENOENT' || i >= 20) throw e; }
  }
}
async function writeWhole(file, data) {
  const tmp = tmpName(file);
  await inFolder(file, () => fs.promises.writeFile(tmp, data));
  try { await fs.promises.rename(tmp, file); } catch (e) { await fs.promises.rm(tmp, { force: true }); throw e; }
}
const readOr = (file, dflt) => fs.promises.readFile(file, 'utf8').catch((e) => { if (e.code === 'ENOENT') return dflt; throw e; });
const unquote = (s) => String(s).replace(/"/g, '');
// If-None-Match / If-Match of a PutObject or a completion, against etag (null: no object)
function checkWrite(ctx, etag) {
  if (!ctx || ctx.get('x-amz-copy-source')) return;
  const inm = ctx.get('if-none-match'), im = ctx.get('if-match');
  if (inm === '*' && etag !== null) throw preconditionFailed();
  if (im && etag === null) throw noSuchKey();
  if (im && im !== '*' && unquote(im) !== etag) throw preconditionFailed();
}
// x-amz-copy-source-if-match / -if-none-match of a copy, against the source's ETag;
// the fault no-copy-if-match ignores the first, as some stores do
function checkCopySource(ctx, etag) {
  if (!ctx) return;
  const im = ctx.get('x-amz-copy-source-if-match'), inm = ctx.get('x-amz-copy-source-if-none-match');
  if (im && !ctx.state.s3tsNoCopyIfMatch && im !== '*' && unquote(im) !== etag)
    throw preconditionFailed();
  if (inm && (inm === '*' || unquote(inm) === etag)) throw preconditionFailed();
}
(() => {
  const rawMetadata = Store.prototype.getMetadata;
  const lockedMetadata = function getMetadata(bucket, key) {
    return withKey(bucket, key, () => rawMetadata.call(this, bucket, key));
  };
  Store.prototype.getMetadata = lockedMetadata;
  Store.prototype.putMetadata = async function putMetadata(bucket, key, metadata, md5) {
    const json = {};
    for (const [k, v] of Object.entries(metadata || {}))
      if (S3Object.ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-')) json[k] = v;
    if (md5) await writeWhole(this.getResourcePath(bucket, key, 'object.md5'), md5);
    await writeWhole(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(json, null, 2));
  };
  // The bytes are opened and the metadata read under the key's lock: one writer's all.
  // An UploadPartCopy reads its source here: x-amz-copy-source-if-match is checked.
  Store.prototype.getObject = async function getObject(bucket, key, options) {
    let fh = null, metadata;
    try {
      metadata = await withKey(bucket, key, async () => {
        fh = await fs.promises.open(this.getResourcePath(bucket, key, 'object'), 'r');
        return rawMetadata.call(this, bucket, key);
      });
      const ctx = requestOf.getStore();
      if (ctx && ctx.method === 'PUT' && ctx.get('x-amz-copy-source') && 'partNumber' in ctx.query)
        checkCopySource(ctx, unquote(metadata.etag));
    } catch (e) {
      if (fh) await fh.close();
      if (e.code === 'ENOENT') return null;
      throw e;
    }
    const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
    const ranged = options && (options.start !== undefined || options.end);
    const range = { start: (options && options.start) || 0, end: Math.min((options && options.end) || Infinity, lastByte) };
    let content = null;
    if (range.start < 0 || range.end < range.start) await fh.close(); // not satisfiable
    else content = fh.createReadStream({ start: range.start, end: range.end });
    const object = new S3Object(bucket, key, content, metadata);
    if (ranged) object.range = range;
    return object;
  };
  // PutObject (and a completion) writes the body to a temporary name beside the object,
  // checks its Content-MD5 and hex x-amz-content-sha256 (checks, set by extras below),
  // then, holding the key's lock, checks the request's preconditions and renames it.
  Store.prototype.putObject = async function putObject(object, etag) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    const tmp = tmpName(objectPath), ctx = requestOf.getStore();
    let size, md5;
    try {
      await inFolder(objectPath, () => fs.promises.writeFile(tmp, ''));
      [size, md5] = await this.putContent(tmp, object.content);
      const check = checks.get(object.content);
      if (check && check.md5 && Buffer.from(md5, 'hex').toString('base64') !== check.md5)
        throw err('BadDigest', 'The Content-MD5 you specified did not match what we received.');
      if (check && check.hs && check.hs.digest('hex') !== check.sha)
        throw err('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
      await withKey(object.bucket, object.key, async () => {
        checkWrite(ctx, await readOr(this.getResourcePath(object.bucket, object.key, 'object.md5'), null));
        await fs.promises.rename(tmp, objectPath);
        await this.putMetadata(object.bucket, object.key, object.metadata, etag || md5);
      });
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    return { size, md5: etag || md5 };
  };
  // CopyObject: the source read whole under its lock (its x-amz-copy-source-if-match
  // checked there), the copy's ETag the MD5 of the bytes copied (AWS computes it anew:
  // a copy of a multipart object is a single-part one), renamed under the target's lock.
  Store.prototype.copyObject = async function copyObject(srcBucket, srcKey, destBucket, destKey, replacement) {
    const destPath = this.getResourcePath(destBucket, destKey, 'object');
    const tmp = tmpName(destPath), ctx = requestOf.getStore();
    let size, md5, metadata;
    try {
      await inFolder(destPath, () => fs.promises.writeFile(tmp, ''));
      await withKey(srcBucket, srcKey, async () => {
        const etag = await readOr(this.getResourcePath(srcBucket, srcKey, 'object.md5'), null);
        const json = await readOr(this.getResourcePath(srcBucket, srcKey, 'metadata.json'), '{}');
        if (etag === null) throw noSuchKey();
        checkCopySource(ctx, etag);
        metadata = replacement || JSON.parse(json);
        [size, md5] = await this.putContent(tmp, fs.createReadStream(this.getResourcePath(srcBucket, srcKey, 'object')));
      });
      await withKey(destBucket, destKey, async () => {
        await fs.promises.rename(tmp, destPath);
        await this.putMetadata(destBucket, destKey, metadata, md5);
      });
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      if (e.code === 'ENOENT') throw noSuchKey();
      throw e;
    }
    return Object.assign(new S3Object(destBucket, destKey, null, metadata).metadata, {
      etag: JSON.stringify(md5), 'last-modified': new Date().toUTCString(), 'content-length': size });
  };
  // The package's deleteObject read the whole folder (readdirSync) to see whether the
  // delete left it empty: O(n) a delete, so draining a folder of n objects took O(n^2)
  // (10,000 deletes from one folder: over a minute). rmdir refuses a folder that is not
  // empty: the same cleanup.
  Store.prototype.deleteObject = async function deleteObject(bucket, key) {
    await withKey(bucket, key, () => Promise.all(['object', 'object.md5', 'metadata.json'].map((kind) =>
      fs.promises.unlink(this.getResourcePath(bucket, key, kind)).catch((e) => { if (e.code !== 'ENOENT') throw e; }))));
    const parts = key.split('/');
    for (parts.pop(); parts.length; parts.pop()) {
      try { await fs.promises.rmdir(path.join(this.getBucketPath(bucket), ...parts)); } catch (e) { break; }
    }
  };
  const uploadDir = (store, bucket, id) => path.join(store.getResourcePath(bucket, undefined, 'uploads'), String(id));
  const noSuchUpload = () => err('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
  // A part of an upload that exists (the package made the folder of any upload id), whole.
  Store.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
    const dir = uploadDir(this, bucket, uploadId), partPath = path.join(dir, String(partNumber));
    const tmp = tmpName(partPath);
    if (!/^[0-9a-f]+$/.test(uploadId) || !fs.existsSync(path.join(dir, 'key'))) throw noSuchUpload();
    try {
      const [size, md5] = await this.putContent(tmp, content);
      await withKey(bucket, `\0upload/${uploadId}/${partNumber}`, async () => {
        await fs.promises.rename(tmp, partPath);
        await writeWhole(`${partPath}.md5`, md5);
      });
      return { size, md5 };
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      if (e.code === 'ENOENT') throw noSuchUpload();
      throw e;
    }
  };
  // A completion as AWS makes it: each part named must be there with the ETag given
  // (InvalidPart), and the object's ETag is the MD5 of the parts' binary MD5s, "-N".
  Store.prototype.putObjectMultipart = async function putObjectMultipart(bucket, uploadId, parts) {
    const dir = uploadDir(this, bucket, uploadId);
    if (!/^[0-9a-f]+$/.test(uploadId)) throw noSuchUpload();
    const key = await readOr(path.join(dir, 'key'), null);
    if (key === null) throw noSuchUpload();
    const metadata = JSON.parse(await readOr(path.join(dir, 'metadata'), '{}'));
    const sorted = [...parts].sort((a, b) => a.number - b.number), md5s = [];
    for (const part of sorted) {
      const md5 = await readOr(path.join(dir, `${part.number}.md5`), null);
      if (md5 === null || md5 !== part.etag)
        throw err('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', 400);
      md5s.push(Buffer.from(md5, 'hex'));
    }
    const etag = `${crypto.createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${sorted.length}`;
    const content = concatStreams(sorted.map((p) => fs.createReadStream(path.join(dir, String(p.number)))));
    const result = await this.putObject(new S3Object(bucket, key, content, metadata), etag);
    await fs.promises.rm(dir, { recursive: true, force: true });
    return result;
  };
})();
const account = require(path.join(pkgdir, 'lib/models/account'));
const env = process.env;
const fatal = (msg) => { console.error('s3-test-server: ' + msg); process.exit(1); };
const dec = (s) => { try { return decodeURIComponent(s); } catch (e) { return s; } };

// ---- keys: one account object per key, so the verified key is known after authentication
const keyOf = new Map(), readOnly = new Set(), keyBuckets = new Map();
const mainKey = env.S3_ACCESS_KEY;
function addKey(id, secret) {
  const acct = new account(account.DUMMY_ACCOUNT.id, account.DUMMY_ACCOUNT.displayName);
  acct.createKeyPair(id, secret);
  keyOf.set(acct, id);
}
account.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
addKey(mainKey, env.S3_SECRET_KEY);
const fullKeys = new Set([mainKey]);
(env.S3TS_KEYS || '').split(',').map((s) => s.trim()).filter(Boolean).forEach((s, n) => {
  const i = s.indexOf(':'), id = s.slice(0, i), secret = s.slice(i + 1);
  if (i <= 0 || !secret || /\s/.test(id)) fatal(`S3TS_KEYS: entry ${n + 1} is not KEY:SECRET`);
  if (fullKeys.has(id)) fatal(`S3TS_KEYS: key ${id} is defined twice`);
  fullKeys.add(id);
  addKey(id, secret);
});
(env.S3TS_READONLY_KEYS || '').split(',').map((s) => s.trim()).filter(Boolean).forEach((s, n) => {
  const i = s.indexOf(':'), id = s.slice(0, i), secret = s.slice(i + 1);
  if (i <= 0 || !secret || /\s/.test(id)) fatal(`S3TS_READONLY_KEYS: entry ${n + 1} is not KEY:SECRET`);
  if (fullKeys.has(id) || readOnly.has(id)) fatal(`S3TS_READONLY_KEYS: key ${id} is defined twice`);
  readOnly.add(id);
  addKey(id, secret);
});
(env.S3TS_KEY_BUCKETS || '').split(';').map((s) => s.trim()).filter(Boolean).forEach((s) => {
  const m = /^([^=\s]+)\s*=(.*)$/.exec(s);
  const buckets = m ? m[2].split(',').map((b) => b.trim()).filter(Boolean) : [];
  if (!m || !buckets.length) fatal(`S3TS_KEY_BUCKETS: ${s} is not KEY=bucket[,bucket...]`);
  if (!fullKeys.has(m[1]) && !readOnly.has(m[1])) fatal(`S3TS_KEY_BUCKETS: unknown key ${m[1]}`);
  keyBuckets.set(m[1], new Set([...(keyBuckets.get(m[1]) || []), ...buckets]));
});

function target(ctx) { // bucket and object key of a path-style request
  const parts = ctx.path.split('/').slice(1);
  return { bucket: dec(parts[0] || ''), key: parts.slice(1).map(dec).join('/') };
}
function claimedKey(ctx) { // the access key id the request names (verified or not); '' if unsigned
  const auth = ctx.get('authorization'), q = ctx.query;
  let m;
  if ((m = /Credential=\s*([^/,\s]+)/.exec(auth)) || (m = /^AWS\s+([^:\s]+):/.exec(auth))) return m[1];
  if (q['X-Amz-Credential']) return String(q['X-Amz-Credential']).split('/')[0];
  if (q.AWSAccessKeyId) return String(q.AWSAccessKeyId);
  return '';
}
function denied(id, ctx) { // S3TS_READONLY_KEYS / S3TS_KEY_BUCKETS: an AccessDenied error or null
  if (!id) return null;
  if (readOnly.has(id) && ctx.method !== 'GET' && ctx.method !== 'HEAD')
    return err('AccessDenied', `Access Denied (${id} is a read-only key)`);
  const allowed = keyBuckets.get(id);
  if (!allowed) return null;
  const no = `Access Denied (${id} may only use buckets ${[...allowed].join(', ')})`;
  const { bucket } = target(ctx), src = ctx.get('x-amz-copy-source');
  if (!allowed.has(bucket)) return err('AccessDenied', no);
  if (src && !allowed.has(dec(src).replace(/^\//, '').split('/')[0])) return err('AccessDenied', no);
  return null;
}
// Run denied() right after the package's signature check (a bad signature still gets
// SignatureDoesNotMatch / InvalidAccessKeyId first) and before any bucket or object is touched.
function hookAuthentication() {
  let routes;
  try { routes = require(path.join(pkgdir, 'lib/routes')); } catch (e) { return false; }
  for (const layer of routes.stack || []) {
    const i = (layer.stack || []).findIndex((f) => f.name === 'authentication');
    if (i < 0) continue;
    const authenticate = layer.stack[i];
    layer.stack[i] = function authentication(ctx, next) {
      return authenticate(ctx, (...args) => {
        const e = denied((ctx.state.account && keyOf.get(ctx.state.account)) || claimedKey(ctx), ctx);
        if (e) throw e;
        return next(...args);
      });
    };
    return true;
  }
  return false;
}
if (!hookAuthentication() && (readOnly.size || keyBuckets.size))
  fatal(`cannot hook the authentication of ${pkg}: S3TS_READONLY_KEYS and S3TS_KEY_BUCKETS are unsupported`);

// ---- fault injection: rules in DATADIR/.s3rver.faults, re-read on every request
const FAULTS = path.join(dir, '.s3rver.faults'), FAULTLOG = path.join(dir, '.s3rver.faultlog');
const REQLOG = path.join(dir, '.s3rver.requests'), reqlog = env.S3TS_REQLOG === '1';
const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH']);
const ERRORS = {
  400: ['BadRequest', 'Bad Request'], 403: ['AccessDenied', 'Access Denied'],
  404: ['NoSuchKey', 'The specified key does not exist.'], 408: ['RequestTimeout', 'Request Timeout'],
  409: ['OperationAborted', 'A conflicting conditional operation is currently in progress against this resource.'],
  429: ['TooManyRequests', 'Too Many Requests'],
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  501: ['NotImplemented', 'Not Implemented'], 502: ['BadGateway', 'Bad Gateway'],
  503: ['SlowDown', 'Please reduce your request rate.'], 504: ['GatewayTimeout', 'Gateway Timeout'],
};
const seed = env.S3TS_SEED || String(crypto.randomInt(1, 2 ** 31));
const rand = (() => { // sfc32 seeded from sha256(seed)
  const h = crypto.createHash('sha256').update(seed).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0; a = b ^ (b >>> 9); b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11); c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
})();
function parseRules(text) {
  const rules = [];
  text.split(/\r?\n|;/).forEach((line, n) => {
    const t = line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (!t.length) return;
    const bad = (why) => { throw new Error(`fault rule ${n + 1} (${t.join(' ')}): ${why}`); };
    const prob = (s) => { const m = /^(\d+(?:\.\d*)?|\.\d+)(%?)$/.exec(s || ''); return m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN; };
    const r = { kind: t[0], text: t.join(' '), p: 1, methods: null, prefix: '', times: Infinity };
    const rest = t.slice(1).filter((s) => { const m = /^times=(\d+)$/.exec(s); if (m) r.times = Number(m[1]); return !m; });
    switch (r.kind) {
      case 'status':
        r.status = Number(rest.shift());
        if (!Number.isInteger(r.status) || r.status < 400 || r.status > 599) bad('expected an HTTP status 400-599');
        r.p = prob(rest.shift());
        break;
      case 'reset': case 'reset-after': case 'truncate': case 'no-copy-if-match':
        r.p = prob(rest.shift());
        break;
      case 'delay':
        r.ms = Number(rest.shift());
        if (!(r.ms >= 0)) bad('expected milliseconds');
        if (!Number.isNaN(prob(rest[0]))) r.p = prob(rest.shift());
        break;
      default: bad('unknown kind (status, reset, reset-after, truncate, delay, no-copy-if-match)');
    }
    if (!(r.p >= 0 && r.p <= 1)) bad('expected a probability from 0 to 1 (or 0% to 100%)');
    if (rest.length && /^(\*|[A-Z]+(,[A-Z]+)*)$/.test(rest[0])) {
      const m = rest.shift();
      if (m !== '*') r.methods = new Set(m.split(','));
      for (const x of r.methods || []) if (!METHODS.has(x)) bad(`unknown method ${x} (to filter on an upper-case key prefix, put * before it)`);
    }
    if (rest.length) r.prefix = rest.shift();
    if (rest.length) bad(`unexpected ${rest.join(' ')}`);
    rules.push(r);
  });
  return rules;
}
let faults = { text: '', rules: [], error: null };
function currentRules(quiet) { // parsed again only when the file changes (times=N counts survive until then)
  let text = '', error = null;
  try { text = fs.readFileSync(FAULTS, 'utf8'); } catch (e) { if (e.code !== 'ENOENT') error = `cannot read: ${e.message}`; }
  if (error) text = '\0' + error;
  if (text !== faults.text) {
    faults = { text, rules: [], error };
    if (!error) try { faults.rules = parseRules(text); } catch (e) { faults.error = e.message; }
    if (!quiet || !faults.error) console.error('s3-test-server: %s', faults.error ? `${FAULTS}: ${faults.error}` :
      `fault rules now: ${faults.rules.map((r) => r.text).join('; ') || 'none'}`);
  }
  if (faults.error) throw err('InvalidFaultRule', `.s3rver.faults: ${faults.error}`, 400);
  return faults.rules;
}
const hit = (r, q) => r.times > 0 && (!r.methods || r.methods.has(q.method)) &&
  (r.kind !== 'truncate' || q.method === 'GET') &&
  (!r.prefix || (r.prefix.startsWith('/') ? q.path : q.key).startsWith(r.prefix));
const coin = (r) => { const yes = r.p >= 1 || (r.p > 0 && rand() < r.p); if (yes) r.times--; return yes; };
const append = (file, line) => { try { fs.appendFileSync(file, line + '\n'); } catch (e) { /* data dir gone */ } };
const faultlog = (q, kind) => append(FAULTLOG, `${new Date().toISOString()} ${q.method} ${q.url} ${kind}`);
function drop(ctx) { // close the connection with a TCP RST instead of answering
  ctx.respond = false;
  if (ctx.body && typeof ctx.body.destroy === 'function') ctx.body.destroy();
  const s = ctx.req.socket;
  if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy(); else s.destroy();
}
const readUpTo = (stream, want) => new Promise((resolve) => { // then destroy it (without an error)
  const chunks = [];
  let got = 0;
  const done = () => {
    stream.off('data', data); stream.off('end', done); stream.off('error', done);
    stream.destroy(); resolve(chunks);
  };
  const data = (c) => { chunks.push(Buffer.from(c)); got += c.length; if (got >= want) done(); };
  if (want <= 0) return done();
  stream.on('data', data); stream.once('end', done); stream.once('error', done);
});
async function truncate(ctx) { // send the headers (full Content-Length) and half the body, then close
  const body = ctx.body, res = ctx.res, socket = ctx.req.socket;
  let total = ctx.length, chunks = [];
  ctx.respond = false;
  if (Buffer.isBuffer(body) || typeof body === 'string') chunks = [Buffer.from(body)];
  else if (body && typeof body.on === 'function') chunks = await readUpTo(body, total == null ? Infinity : Math.floor(total / 2));
  if (total == null) total = chunks.reduce((n, c) => n + c.length, 0);
  const half = Buffer.concat(chunks).subarray(0, Math.floor(total / 2));
  res.flushHeaders();
  if (half.length) res.write(half);
  socket.end();
  setTimeout(() => socket.destroy(), 2000).unref();
}
// Outermost middleware: faults and the request log (the start-up probe is left out of both).
async function faultsAndLog(ctx, next) {
  if (ctx.get('x-s3ts-probe')) return next();
  const { bucket, key } = target(ctx);
  const q = { method: ctx.method, bucket, key, path: dec(ctx.path),
    url: ctx.originalUrl.replace(/([?&](?:X-Amz-Signature|Signature|X-Amz-Security-Token)=)[^&]*/gi, '$1REDACTED') };
  let logged = false;
  const log = (status) => { if (reqlog && !logged) append(REQLOG, `${q.method} ${q.url} ${status} ${claimedKey(ctx) || '-'}`); logged = true; };
  try {
    const rules = currentRules();
    let ms = 0;
    for (const r of rules) if (r.kind === 'delay' && hit(r, q) && coin(r)) { ms += r.ms; faultlog(q, `delay:${r.ms}`); }
    if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
    if (rules.find((r) => r.kind === 'no-copy-if-match' && hit(r, q) && coin(r))) {
      faultlog(q, 'no-copy-if-match');
      ctx.state.s3tsNoCopyIfMatch = true;
    }
    const pre = rules.find((r) => (r.kind === 'status' || r.kind === 'reset') && hit(r, q) && coin(r));
    if (pre && pre.kind === 'reset') { faultlog(q, 'reset'); log('000'); return drop(ctx); }
    if (pre) {
      faultlog(q, `status:${pre.status}`);
      const [code, msg] = ERRORS[pre.status] || ['InjectedFault', 'Injected fault'];
      throw err(code, msg, pre.status);
    }
    let error = null;
    try { await next(); } catch (e) { error = e; }
    if (rules.find((r) => r.kind === 'reset-after' && hit(r, q) && coin(r))) {
      faultlog(q, 'reset-after'); log('000'); return drop(ctx);
    }
    if (error) throw error;
    log(ctx.status);
    if (q.method === 'GET' && ctx.status >= 200 && ctx.status < 300 && ctx.body != null && ctx.length !== 0 &&
        rules.find((r) => r.kind === 'truncate' && hit(r, q) && coin(r))) {
      faultlog(q, 'truncate');
      await truncate(ctx);
    }
  } catch (e) {
    log(e.status || 500);
    throw e;
  }
}

const requireAuth = env.S3TS_REQUIRE_AUTH !== '0';
const SPOOL_MEM = 8 << 20; // bodies up to 8 MiB are checked in memory
const spool = fs.mkdtempSync(path.join(os.tmpdir(), 's3ts-spool-'));

const app = new S3rver({ address, port: Number(port), directory: dir,
  silent: env.S3TS_VERBOSE !== '1', vhostBuckets: false, resetOnClose: false });

// ListMultipartUploads (GET /bucket?uploads; the package answers 501): the uploads begun
// and neither completed nor aborted, sorted by key, then by when they began; prefix,
// key-marker and upload-id-marker, max-uploads (1000 at most), encoding-type=url.
// A delimiter is refused (501) rather than ignored.
const xmlText = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
async function listUploads(bucket, q) {
  if (q.delimiter) throw err('NotImplemented', 'A delimiter in ListMultipartUploads is not implemented here');
  const root = app.store.getResourcePath(bucket, undefined, 'uploads');
  const prefix = String(q.prefix || ''), keyMarker = String(q['key-marker'] || '');
  const idMarker = keyMarker ? String(q['upload-id-marker'] || '') : '';
  let max = q['max-uploads'] === undefined ? 1000 : Number(q['max-uploads']);
  if (!Number.isInteger(max) || max < 0) throw err('InvalidArgument', 'max-uploads must be an integer from 0 to 2147483647', 400);
  max = Math.min(max, 1000);
  let ids = [];
  try { ids = await fs.promises.readdir(root); } catch (e) { if (e.code !== 'ENOENT') throw e; }
  const all = [];
  for (const id of ids) {
    try {
      const keyFile = path.join(root, id, 'key');
      const [key, st] = await Promise.all([fs.promises.readFile(keyFile, 'utf8'), fs.promises.stat(keyFile)]);
      if (key.startsWith(prefix)) all.push({ key, id, at: st.mtimeMs });
    } catch (e) { if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') throw e; } // ended meanwhile
  }
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  let from = 0;
  if (keyMarker) {
    const at = idMarker ? all.findIndex((u) => u.key === keyMarker && u.id === idMarker) : -1;
    from = at >= 0 ? at + 1 : all.findIndex((u) => u.key > keyMarker || (u.key === keyMarker && idMarker && u.id > idMarker));
    if (from < 0) from = all.length;
  }
  const page = all.slice(from, from + max), truncated = from + max < all.length;
  const url = q['encoding-type'] === 'url';
  const k = (s) => xmlText(url ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const owner = `<ID>${xmlText(account.DUMMY_ACCOUNT.id)}</ID><DisplayName>${xmlText(account.DUMMY_ACCOUNT.displayName)}</DisplayName>`;
  const last = page[page.length - 1];
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${xmlText(bucket)}</Bucket><KeyMarker>${k(keyMarker)}</KeyMarker>` +
    `<UploadIdMarker>${xmlText(idMarker)}</UploadIdMarker>` +
    (truncated ? `<NextKeyMarker>${k(last.key)}</NextKeyMarker><NextUploadIdMarker>${xmlText(last.id)}</NextUploadIdMarker>` : '') +
    (url ? '<EncodingType>url</EncodingType>' : '') +
    `<Prefix>${k(prefix)}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
    page.map((u) => `<Upload><Key>${k(u.key)}</Key><UploadId>${xmlText(u.id)}</UploadId>` +
      `<Initiator>${owner}</Initiator><Owner>${owner}</Owner><StorageClass>STANDARD</StorageClass>` +
      `<Initiated>${new Date(u.at).toISOString()}</Initiated></Upload>`).join('') +
    '</ListMultipartUploadsResult>';
}

async function extras(ctx, next) {
  const q = ctx.query;
  if (requireAuth && !ctx.get('authorization') && !('X-Amz-Algorithm' in q) && !('Signature' in q))
    throw err('AccessDenied', 'Access Denied (unsigned request)');
  // a request its key may not make: straight to authentication, which rejects it unchanged
  if (denied(claimedKey(ctx), ctx)) return next();
  const parts = ctx.path.split('/').slice(1);
  const bucket = decodeURIComponent(parts[0] || ''), key = parts.slice(1).map(decodeURIComponent).join('/');
  const isPutObject = ctx.method === 'PUT' && key && !ctx.get('x-amz-copy-source') && !('partNumber' in q);
  if (isPutObject && (ctx.get('if-none-match') || ctx.get('if-match'))) {
    let etag = null;
    try { etag = fs.readFileSync(app.store.getResourcePath(bucket, key, 'object.md5'), 'utf8'); } catch (e) { /* absent */ }
    const inm = ctx.get('if-none-match'), im = ctx.get('if-match');
    if (inm === '*' && etag !== null) throw err('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    if (im && (etag === null ? true : im !== '*' && im.replace(/"/g, '') !== etag))
      throw etag === null ? err('NoSuchKey', 'The specified key does not exist.')
                          : err('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }
  if (ctx.method === 'GET' && !key && bucket && 'uploads' in q) { // ListMultipartUploads (package: 501)
    try { return await next(); } catch (e) { if (e.code !== 'NotImplemented') throw e; } // 501 => auth passed
    ctx.body = await listUploads(bucket, q);
    ctx.type = 'application/xml';
    ctx.status = 200;
    return;
  }
  if (ctx.method === 'DELETE' && key && 'uploadId' in q) { // AbortMultipartUpload (package answers 405)
    try { return await next(); } catch (e) { if (e.code !== 'MethodNotAllowed') throw e; } // 405 => auth passed
    const up = path.join(app.store.getResourcePath(bucket, undefined, 'uploads'), String(q.uploadId));
    if (!/^[0-9a-f]+$/.test(q.uploadId) || !fs.existsSync(up)) throw err('NoSuchUpload', 'The specified upload does not exist.');
    fs.rmSync(up, { recursive: true, force: true }); ctx.status = 204; return;
  }
  const md5 = ctx.get('content-md5'), sha = ctx.get('x-amz-content-sha256');
  const hexSha = /^[0-9a-f]{64}$/i.test(sha);
  if ((ctx.method === 'PUT' || ctx.method === 'POST') && (md5 || hexSha) && !sha.startsWith('STREAMING-')) {
    if (md5 && Buffer.from(md5, 'base64').length !== 16)
      throw err('InvalidDigest', 'The Content-MD5 you specified was invalid.');
    // the body is checked before the package sees any of it: held in memory up to
    // SPOOL_MEM bytes (no file to create, write, read and remove a request), else
    // spooled to a file; only the digests the request carries are computed
    if (isPutObject) { // checked while the package stores it (putObject above)
      const check = { md5, sha: hexSha ? sha.toLowerCase() : null, hs: hexSha ? crypto.createHash('sha256') : null };
      const body = new Transform({ transform(c, enc, cb) { if (check.hs) check.hs.update(c); cb(null, c); } });
      streamPipeline(ctx.req, body, () => {});
      checks.set(body, check);
      ctx.req = body; // the package reads the body from ctx.req
      return next();
    }
    const hm = md5 ? crypto.createHash('md5') : null, hs = hexSha ? crypto.createHash('sha256') : null;
    const len = Number(ctx.get('content-length'));
    const inMemory = ctx.get('content-length') !== '' && len <= SPOOL_MEM;
    const file = inMemory ? null : path.join(spool, crypto.randomBytes(8).toString('hex'));
    const chunks = [];
    let body = null;
    try {
      const hash = async function* (src) {
        for await (const c of src) { if (hm) hm.update(c); if (hs) hs.update(c); yield c; }
      };
      if (inMemory) {
        for await (const c of hash(ctx.req)) chunks.push(c);
      } else {
        await pipeline(ctx.req, hash, fs.createWriteStream(file));
      }
      if (md5 && hm.digest('base64') !== md5)
        throw err('BadDigest', 'The Content-MD5 you specified did not match what we received.');
      if (hexSha && hs.digest('hex') !== sha.toLowerCase())
        throw err('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
      // the package reads the body from ctx.req
      ctx.req = body = inMemory ? Readable.from(chunks.length ? [Buffer.concat(chunks)] : []) : fs.createReadStream(file);
      await next();
    } finally {
      // a request whose body the package never reads (a copy) would keep it open: one
      // descriptor lost per request, until EMFILE
      if (body) body.destroy();
      if (file) fs.rm(file, { force: true }, () => {});
    }
    return;
  }
  return next();
}
app.middleware.unshift((ctx, next) => requestOf.run(ctx, next), faultsAndLog, extras);
const cleanup = () => { try { fs.rmSync(spool, { recursive: true, force: true }); } catch (e) { /* ignore */ } };
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { cleanup(); process.exit(0); });
try { currentRules(true); } catch (e) { cleanup(); fatal(`S3TS_FAULTS: ${faults.error}`); } // a bad rule fails the start
console.log('s3-test-server: fault seed %s (S3TS_SEED=%s repeats this run)', seed, seed);
if (readOnly.size) console.log('s3-test-server: read-only keys: %s', [...readOnly].join(' '));
for (const [id, b] of keyBuckets) console.log('s3-test-server: key %s limited to buckets: %s', id, [...b].join(' '));
app.run().then(({ address, port }) => {
  fs.writeFileSync(path.join(dir, '.s3rver.port'), String(port) + '\n');
  console.log('s3-test-server listening on %s:%d', address, port);
}).catch((e) => { console.error(e); cleanup(); process.exit(1); });
EOF
    mv "$S3TS_HOME/serve.js.tmp" "$S3TS_HOME/serve.js"
}

install_server() {
    ensure_node
    mkdir -p "$S3TS_HOME"
    exec 9>"$S3TS_HOME/.lock"
    flock 9
    if [ "$PKG_SPEC" = "$PINNED_SPEC" ] && [ -f "$LOCK_DIR/package-lock.json" ]; then
        # the pinned install: exactly the tree package-lock.json names
        local sum; sum=$(cat "$LOCK_DIR/package.json" "$LOCK_DIR/package-lock.json" | sha256sum | cut -c1-16)
        local stamp="$S3TS_HOME/.installed-lock-$sum"
        if [ ! -f "$stamp" ] || [ ! -d "$S3TS_HOME/node_modules/$PKG_NAME" ]; then
            echo "s3-test-server: npm ci ($PKG_SPEC, from $LOCK_DIR) into $S3TS_HOME" >&2
            rm -f "$S3TS_HOME"/.installed-*
            cp "$LOCK_DIR/package.json" "$LOCK_DIR/package-lock.json" "$S3TS_HOME/"
            chmod u+w "$S3TS_HOME/package.json" "$S3TS_HOME/package-lock.json"
            (cd "$S3TS_HOME" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
                die "npm ci in $S3TS_HOME failed"
            touch "$stamp"
        fi
    else
        local stamp="$S3TS_HOME/.installed-$(printf '%s' "$PKG_SPEC" | tr -c 'A-Za-z0-9.@-' '_')"
        if [ ! -f "$stamp" ] || [ ! -d "$S3TS_HOME/node_modules/$PKG_NAME" ]; then
            echo "s3-test-server: npm install $PKG_SPEC into $S3TS_HOME" >&2
            [ -f "$S3TS_HOME/package.json" ] || echo '{"name":"ama-s3-test-server","private":true}' > "$S3TS_HOME/package.json"
            (cd "$S3TS_HOME" && npm install --no-audit --no-fund --loglevel=error --save-exact "$PKG_SPEC" >&2) ||
                die "npm install $PKG_SPEC failed"
            touch "$stamp"
        fi
    fi
    write_wrapper
    flock -u 9
}

is_ours() { # PID -> true if it is a running (not zombie) serve.js
    [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q 'serve\.js' &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

start_server() {
    [ $# -ge 2 ] || die "usage: $0 start PORT DATADIR [ACCESS_KEY [SECRET_KEY]]"
    local port=$1 data=$2 key=${3:-AMATESTKEY} secret=${4:-AMATESTSECRET}
    case "$port" in (''|*[!0-9]*) die "bad port: $port";; esac
    mkdir -p "$data"; data=$(cd "$data" && pwd)
    local pidf="$data/.s3rver.pid" log="$data/.s3rver.log"
    if [ -f "$pidf" ] && is_ours "$(cat "$pidf")"; then die "already running (pid $(cat "$pidf")) for $data"; fi
    install_server
    rm -f "$data/.s3rver.port" "$data/.s3rver.faults" "$data/.s3rver.requests"
    : > "$data/.s3rver.faultlog"
    [ -z "${S3TS_FAULTS:-}" ] || printf '%s\n' "$S3TS_FAULTS" | tr ';' '\n' > "$data/.s3rver.faults"
    [ "${S3TS_REQLOG:-}" != 1 ] || : > "$data/.s3rver.requests"
    S3_ACCESS_KEY="$key" S3_SECRET_KEY="$secret" \
        nohup "$NODE" --openssl-legacy-provider "$S3TS_HOME/serve.js" "$PKG_NAME" 127.0.0.1 "$port" "$data" \
        >"$log" 2>&1 </dev/null &
    local pid=$! deadline=$(( $(date +%s) + ${S3TS_TIMEOUT:-30} ))
    until [ -s "$data/.s3rver.port" ]; do
        alive "$pid" || { cat "$log" >&2; die "server exited during start-up"; }
        [ "$(date +%s)" -lt "$deadline" ] || { kill "$pid" 2>/dev/null; cat "$log" >&2; die "no start within ${S3TS_TIMEOUT:-30}s"; }
        sleep 0.1
    done
    port=$(cat "$data/.s3rver.port")
    # it answers HTTP (an unsigned GET / gets 403 AccessDenied or 200); the
    # X-S3ts-Probe header keeps this request out of the faults and the request log
    local reply=""
    until reply=$(exec 3<>"/dev/tcp/127.0.0.1/$port" &&
                  printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nX-S3ts-Probe: 1\r\n\r\n' >&3 && head -c 12 <&3) &&
          [ "${reply#HTTP/1.}" != "$reply" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { kill "$pid" 2>/dev/null; die "port $port does not answer HTTP"; }
        sleep 0.1
    done
    echo "$pid" > "$pidf"
    echo "$pid"
}

stop_server() {
    [ $# -ge 1 ] || die "usage: $0 stop DATADIR|PID"
    local pid pidf=""
    if [ -d "$1" ]; then pidf="$1/.s3rver.pid"; [ -f "$pidf" ] || die "no pid file in $1"; pid=$(cat "$pidf")
    else pid=$1; fi
    if is_ours "$pid"; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
        if alive "$pid"; then kill -KILL "$pid"; fi
    else
        echo "s3-test-server: pid $pid is not running (or not ours)" >&2
    fi
    [ -z "$pidf" ] || rm -f "$pidf"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
    start) start_server "$@" ;;
    stop) stop_server "$@" ;;
    install) install_server ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac

/* radarflow: batch runs over many captures (`radarflow batch`, docs/batch.md).
 * What is here is bookkeeping and one capture at a time, so it can be tested
 * in-process: input expansion (files, folders, manifests), sorting, shards,
 * resume markers, processing one capture into a temporary folder that is
 * renamed into place, summary.json and the merge of shard summaries. The
 * pool of worker processes lives in tools/batch_cmd.c. */
#ifndef RF_BATCH_H
#define RF_BATCH_H

#include "rf_config.h"

/* The resume marker written as the last file of each product folder. */
#define RF_BATCH_MARKER "input.json"
/* Bytes hashed at the start and at the end of an input file (the HDF5
 * superblock and the metadata the writer puts there). */
#define RF_BATCH_HASH_BYTES ((size_t)64 << 10)

/* One capture of a batch. */
typedef struct rf_batch_item {
  char *input;  /* capture path, as given or found (owned) */
  char *name;   /* product folder under the output root, unique (owned) */
  size_t index; /* position in the sorted list of all inputs (before sharding) */
} rf_batch_item;

typedef struct rf_batch_list {
  rf_batch_item *v;
  size_t n;     /* items in this list (after sharding) */
  size_t total; /* items before sharding */
} rf_batch_list;

/* Expands inputs into a sorted list without duplicates. Each input is a
 * capture file, a folder (its *.h5 files, not recursive) or a manifest (a
 * text file: one capture or folder a line, blank lines and '#' comments
 * ignored, relative paths taken from the manifest's folder). `manifest` (may
 * be NULL) is read as a manifest whatever it looks like. Items are sorted by
 * path (bytes); a file reached twice (same real path: symlinks, ./) is
 * kept once; hard links count as different files.
 * Names are the file names without ".h5"; a name taken by an earlier item
 * gets "-2", "-3", ... RF_EINVAL naming the input when one is missing or a
 * manifest cannot be read. l is owned by the caller (rf_batch_list_free). */
int rf_batch_expand(rf_batch_list *l, const char *const *inputs, size_t n_inputs,
                    const char *manifest);
void rf_batch_list_free(rf_batch_list *l); /* NULL is a no-op */

/* Product folders never over inputs: an item whose folder root/<name>
 * would be an input or hold one (`batch d/cap.hdf5 -o d`, an input inside
 * root) gets "-2", "-3", ... - the first suffix no other item uses. Call
 * before sharding (every shard then agrees on the names). RF_ENOMEM. */
int rf_batch_protect_inputs(rf_batch_list *l, const char *root);
/* 0 when path is absent or a summary radarflow wrote; RF_EINVAL naming it
 * otherwise (never replaced). */
int rf_batch_check_summary(const char *path);

/* Parses "K/N" (0 <= K < N, N >= 1) into k and n; RF_EINVAL otherwise. */
int rf_batch_parse_shard(const char *text, size_t *k, size_t *n);
/* Keeps the items whose index % n == k: shards 0..n-1 cover every item of
 * the sorted list exactly once. */
void rf_batch_shard(rf_batch_list *l, size_t k, size_t n);

/* What identifies an input file for --resume. */
typedef struct rf_batch_fingerprint {
  uint64_t size_bytes;
  int64_t mtime_ns;
  uint64_t header_hash; /* FNV-1a 64 of the first and last RF_BATCH_HASH_BYTES */
} rf_batch_fingerprint;
/* RF_EFORMAT naming the file when it is missing, unreadable or not a
 * regular file (the reason in words: "Permission denied", ...). */
int rf_batch_fingerprint_file(const char *path, rf_batch_fingerprint *fp);
/* FNV-1a 64 of the settings in force (rf_config_to_ini) with run.threads,
 * which does not change products, left out. 0 on allocation failure. */
uint64_t rf_batch_config_hash(const rf_config *cfg);

enum rf_batch_status {
  RF_BATCH_PENDING = 0,  /* not run (yet) */
  RF_BATCH_DONE,         /* processed now */
  RF_BATCH_SKIPPED,      /* --resume: products complete and current */
  RF_BATCH_FAILED,       /* error holds why; no product left */
  RF_BATCH_INTERRUPTED   /* stopped by SIGINT/SIGTERM; no product left */
};
/* "pending", "done", "skipped", "failed", "interrupted". */
const char *rf_batch_status_name(int status);

/* The outcome of one capture. */
typedef struct rf_batch_result {
  int status;           /* RF_BATCH_* */
  int code;             /* RF_E* status when failed or interrupted, else 0 */
  char error[1024];     /* message when failed */
  size_t dwells, plots;
  long long tracks;     /* -1 when the products hold no track count */
  uint64_t input_bytes;
  double seconds;       /* wall time for this capture, in the worker */
  double dsp_seconds;   /* pulse compression .. extraction */
  double io_seconds;    /* reading samples and writing products */
  char device[64];      /* from run.json ("cpu", ...); empty if unknown */
  int worker;           /* worker number, -1 when none (skipped) */
} rf_batch_result;

/* 1 when root/<it->name> holds complete products (every file its marker
 * lists, with the listed size) made by this version from this input
 * (size, mtime, header hash) with this config hash; then res is filled from
 * the marker and run.json with status RF_BATCH_SKIPPED. 0 otherwise (res
 * untouched). */
int rf_batch_check_resume(const char *root, const rf_batch_item *it, uint64_t config_hash,
                          rf_batch_result *res);

/* Processes one capture as `radarflow process` does, into
 * root/.<name>.tmp.<host>.<pid>, writes input.json and the product marker
 * last, and switches the folder in as root/<name> (rf_outset,
 * host/rf_files.h): an older product folder there is exchanged and only
 * what radarflow wrote in it is removed; a root/<name> that is not a
 * radarflow product folder (or holds anything else) fails the capture
 * (RF_EINVAL) and is left alone.
 * device is as for rf_process_capture_on ("cpu", "auto", "opencl", ...).
 * On failure nothing is left under root, res->status is RF_BATCH_FAILED (or
 * RF_BATCH_INTERRUPTED) and res->error holds the one-line message. Returns
 * 0 or the RF_E* status. */
int rf_batch_process_one(const char *root, const char *input, const char *name,
                         const rf_config *cfg, const char *device, uint64_t config_hash,
                         rf_batch_result *res);

/* Creates the output root (and parents) and checks it can be written:
 * RF_EIO naming the folder and the reason ("Read-only file system", ...). */
int rf_batch_prepare_root(const char *root);

/* Removes temporaries left by killed runs on this host (root/.<name>.tmp.*
 * and root/.<name>.old.* of dead processes; rf_outset_clean_stale) for the
 * items of l only, so shards sharing root leave each other alone. Returns
 * how many were removed. */
size_t rf_batch_clean_stale(const char *root, const rf_batch_list *l);

/* One result as a one-line JSON object (worker answers) and back. The text
 * is rf__malloc'd (rf__free it); NULL on allocation failure. */
char *rf_batch_result_to_json(const rf_batch_result *r);
int rf_batch_result_from_json(const char *text, rf_batch_result *r);

/* The run, for summary.json. */
typedef struct rf_batch_run_info {
  const char *started_utc;
  size_t shard_k, shard_n; /* shard_n 0: not sharded */
  int jobs, threads;
  double seconds;
  uint64_t config_hash;
} rf_batch_run_info;

/* root/summary.json, or root/summary.shard-K-of-N.json for a shard. */
int rf_batch_summary_path(char *out, size_t len, const char *root, size_t shard_k, size_t shard_n);
/* Writes the summary atomically: the run, totals and one entry per item of
 * l (res[i] for l->v[i]) in list order. */
int rf_batch_write_summary(const char *path, const rf_batch_list *l, const rf_batch_result *res,
                           const rf_batch_run_info *info);

/* Counts by status over n results. */
typedef struct rf_batch_totals {
  size_t captures, done, skipped, failed, interrupted, pending;
  size_t dwells, plots;
} rf_batch_totals;
void rf_batch_count(const rf_batch_result *res, size_t n, rf_batch_totals *t);

/* Joins root/summary.shard-K-of-N.json (all K for one N) into
 * root/summary.json: captures in sorted-list order, totals recomputed, and
 * "complete": true only when every shard is there and every capture of the
 * sorted list appears exactly once. t gets the merged totals; *missing the
 * number of shards absent (or captures not covered). RF_EFORMAT naming the
 * file for an unreadable shard summary, shard files of different N, or a
 * capture listed twice; RF_EINVAL when there is no shard summary. */
int rf_batch_merge(const char *root, rf_batch_totals *t, size_t *missing);

#endif

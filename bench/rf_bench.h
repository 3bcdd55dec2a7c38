/* radarflow: benchmarks (`radarflow bench`, `make bench`). */
#ifndef RF_BENCH_H
#define RF_BENCH_H

#include <stddef.h>

/* Runs the benchmark command line (argv[0] is "bench"). Returns a status. */
int rf_bench_main(int argc, char **argv);
/* `radarflow bench-compare A.json B.json` (bench/bench_compare.c): prints,
 * per workload and stage, B's time over A's. 0, or RF_EINVAL (usage) /
 * RF_EFORMAT (a file that is not a bench report, or reports with no
 * workload in common) with the message set. */
int rf_bench_compare_main(int argc, char **argv);
/* Runs this binary (/proc/self/exe: a fork of an OpenMP process may not use
 * OpenMP) with argv and waits; *seconds its wall time. RF_EIO naming the
 * command when it cannot start or does not exit 0. */
int rf_bench_run_self(char *const argv[], double *seconds);
/* The same with its standard output into the file stdout_path (NULL: this
 * process's). */
int rf_bench_run_self_to(char *const argv[], const char *stdout_path, double *seconds);

/* The batch workload (bench/bench_batch.c): `captures` copies (hard links) of
 * the demo scenario through `radarflow batch` under dir, with `jobs` workers
 * (0: 1 and all cores, two runs); prints captures/s and the share of worker
 * time outside signal processing, and appends one object per run to the
 * JSON array `workloads` (may be NULL). */
struct cJSON;
int rf_bench_batch(const char *dir, size_t captures, int jobs, struct cJSON *workloads);

/* The report's description of the run (bench/bench_meta.c): date, host,
 * CPU model and cores, memory, OS, the OpenCL device and driver when
 * `device` is not "cpu", the build (version, commit, compiler), and the
 * load averages at the start; rf_bench_finish_run adds those at the end. */
void rf_bench_describe_run(struct cJSON *root, const char *device);
void rf_bench_finish_run(struct cJSON *root);

/* `radarflow track` end to end on 2000 targets (250 and 500 scans: plots/s
 * and peak RSS; plot files written under dir), then plots per second
 * through the tracker calls alone for 100, 1000 and 10000 targets with
 * clutter; printed, and appended to out_array (may be NULL) as objects. */
int rf_bench_tracker(const char *dir, struct cJSON *out_array);

#endif

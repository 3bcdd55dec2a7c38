/* radarflow: benchmarks (`radarflow bench`, `make bench`). */
#ifndef RF_BENCH_H
#define RF_BENCH_H

/* Runs the benchmark command line (argv[0] is "bench"). Returns a status. */
int rf_bench_main(int argc, char **argv);

#endif

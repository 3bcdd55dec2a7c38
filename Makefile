# radarflow - top-level Makefile. Objects go out of tree into $(BUILD).
#   make            build library, CLI and test runner
#   make check      install missing packages, build, run the Check suite
#   make demo       install, build, simulate and process the demo scenario
#   make bench      install, build, run the benchmarks (see bench/); BENCH_DEVICE=opencl
#   make check SANITIZE=1   the same under ASan + UBSan (build-san/)
#   make fuzz       libFuzzer on the capture reader and the parsers (FUZZ_SECONDS each)
#   make clean

SANITIZE ?= 0
NPROC := $(shell nproc 2>/dev/null || echo 2)
# make bench BENCH_DEVICE=opencl (or auto, opencl:P:D, a device name)
BENCH_DEVICE ?= cpu
ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= cc
CXX ?= c++
PKGS := hdf5 fftw3f inih libcjson cairo
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# CFLAGS (optimisation, debug info) may be set on the command line; the
# flags the project needs are kept apart in RF_CFLAGS.
CFLAGS ?= -O2 -g
RF_CFLAGS := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -fopenmp \
             -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(SANFLAGS)
CXXFLAGS ?= -O2 -g
# C++ only for io/numfmt.cc, the {fmt} number formatter behind the CSV writers.
RF_CXXFLAGS := -std=c++17 -Wall -Wextra -fno-exceptions -I. $(SANFLAGS)
RF_LDFLAGS := -fopenmp $(SANFLAGS)
LDLIBS := -lfftw3f_omp $(PKG_LIBS) -lOpenCL -lfmt -lstdc++ -lpthread -lm

LIB_SRC := $(wildcard host/*.c io/*.c pipelines/*.c datasets/*.c)
CLI_SRC := $(wildcard tools/*.c bench/*.c)
TEST_SRC := $(wildcard tests/*.c)
LIB_CXX_SRC := $(wildcard io/*.cc)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(LIB_CXX_SRC:%.cc=$(BUILD)/%.o)
# OpenCL C sources, embedded into the library (common.cl and compact.cl
# first: the others use them). RF_KERNEL_DIR=kernels loads them from disk.
CL_SRC := kernels/common.cl kernels/compact.cl \
          $(filter-out kernels/common.cl kernels/compact.cl,$(sort $(wildcard kernels/*.cl)))
CL_GEN := $(BUILD)/gen/rf_cl_kernels.c
LIB_OBJ += $(BUILD)/gen/rf_cl_kernels.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
DEPS := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

LIB := $(BUILD)/libradarflow.a
BIN := $(BUILD)/radarflow
TESTBIN := $(BUILD)/check_radarflow

.PHONY: all deps check demo bench fuzz clean
all: $(BIN) $(TESTBIN)

deps:
	@bash scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(RF_CXXFLAGS) -MMD -MP -c $< -o $@

$(CL_GEN): $(CL_SRC) scripts/embed-kernels.sh
	@mkdir -p $(dir $@)
	bash scripts/embed-kernels.sh $@ $(CL_SRC)

$(BUILD)/gen/rf_cl_kernels.o: $(CL_GEN)
	$(CC) $(CFLAGS) $(RF_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(RF_LDFLAGS) $(LDFLAGS) $(CLI_OBJ) $(LIB) $(LDLIBS) -o $@

$(TESTBIN): $(TEST_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(RF_LDFLAGS) $(LDFLAGS) $(TEST_OBJ) $(LIB) $(LDLIBS) $(CHECK_LIBS) -o $@

# Tests run from the top folder; RF_BIN names the CLI they exercise.
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	RF_BIN=$(BIN) RF_TMP=$(BUILD)/test-tmp RF_CACHE_DIR=$(BUILD)/cl-cache $(TESTBIN)

demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(BIN)
	@bash scripts/demo.sh $(BIN) $(BUILD)/demo

bench: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(BIN)
	RF_CACHE_DIR=$(BUILD)/cl-cache $(BIN) bench --device $(BENCH_DEVICE) --json $(BUILD)/bench.json

# Fuzz the capture reader and the config and scenario parsers (libFuzzer,
# clang) for FUZZ_SECONDS each; crashing inputs go to tests/fuzz/regressions/.
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/install-deps.sh fuzz
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-san

-include $(DEPS)

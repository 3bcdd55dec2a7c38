# radarflow - top-level Makefile. Objects go out of tree into $(BUILD).
#   make            build library, CLI and test runner
#   make check      install missing packages, build, run the Check suite
#   make demo       install, build, simulate and process the demo scenario
#   make bench      install, build, run the benchmarks (see bench/); BENCH_DEVICE=opencl
#   make validate   the Monte Carlo characterisation of detection (tests/validate/,
#                   docs/detection.md): build/validate/report.json, PNGs, a table
#   make check SANITIZE=1   the same under ASan + UBSan (build-san/)
#   make fuzz       libFuzzer on the capture reader and the parsers (FUZZ_SECONDS each)
#   make install    PREFIX=/usr/local DESTDIR= (binary, libraries, headers, pkg-config,
#                   man page, bash completion, docs, examples); make uninstall
#   make clean

SANITIZE ?= 0
comma := ,
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
PKGS := hdf5 fftw3f inih libcjson cairo openblas sleef
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# OpenBLAS (beamforming CGEMM): Debian installs its builds side by side and
# picks one by update-alternatives; the rpath loads the one pkg-config names,
# the OpenMP build (libopenblas-openmp-dev, scripts/install-deps.sh), whose
# threads are libgomp's: single-threaded inside our parallel regions, and
# waiting passively like ours.
OPENBLAS_LIBDIR := $(shell pkg-config --variable=libdir openblas 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# CFLAGS (optimisation, debug info) may be set on the command line; the
# flags the project needs are kept apart in RF_CFLAGS. -O3 rather than -O2:
# the tracker's small fixed-size matrix loops and the product writers run
# about 20% fewer instructions (bench/RESULTS.md), with the same results
# (-std=c11 contracts no a*b+c, and nothing is reassociated).
# -fno-math-errno: no code reads errno after a math function, and it lets
# llrint and sqrt compile to single instructions.
CFLAGS ?= -O3 -g
RF_CFLAGS := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -fopenmp -fno-math-errno \
             -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(SANFLAGS)
RF_LDFLAGS := -fopenmp $(SANFLAGS) $(if $(OPENBLAS_LIBDIR),-Wl$(comma)-rpath$(comma)$(OPENBLAS_LIBDIR))
LDLIBS := -lfftw3f_omp $(PKG_LIBS) -lOpenCL -lpthread -lm

LIB_SRC := $(wildcard host/*.c io/*.c pipelines/*.c datasets/*.c)
CLI_SRC := $(wildcard tools/*.c bench/*.c)
TEST_SRC := $(wildcard tests/*.c)
VALIDATE_SRC := $(wildcard tests/validate/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
# OpenCL C sources, embedded into the library (common.cl and compact.cl
# first: the others use them). RF_KERNEL_DIR=kernels loads them from disk.
CL_SRC := kernels/common.cl kernels/compact.cl \
          $(filter-out kernels/common.cl kernels/compact.cl,$(sort $(wildcard kernels/*.cl)))
CL_GEN := $(BUILD)/gen/rf_cl_kernels.c
LIB_OBJ += $(BUILD)/gen/rf_cl_kernels.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
VALIDATE_OBJ := $(VALIDATE_SRC:%.c=$(BUILD)/%.o)
DEPS := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(VALIDATE_OBJ:.o=.d)

LIB := $(BUILD)/libradarflow.a
BIN := $(BUILD)/radarflow
TESTBIN := $(BUILD)/check_radarflow
VALIDATE := $(BUILD)/validate-radarflow

.PHONY: all deps check demo bench fuzz clean validate
all: $(BIN) $(TESTBIN) $(VALIDATE)

deps:
	@bash scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RF_CFLAGS) -MMD -MP -c $< -o $@

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

$(VALIDATE): $(VALIDATE_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(RF_LDFLAGS) $(LDFLAGS) $(VALIDATE_OBJ) $(LIB) $(LDLIBS) -o $@

# Tests run from the top folder; RF_BIN names the CLI they exercise.
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
ifeq ($(SANITIZE),1)
	RF_SAN_LOG=$(BUILD)/check.log RF_BIN=$(BIN) RF_TMP=$(BUILD)/test-tmp RF_CACHE_DIR=$(BUILD)/cl-cache \
	  bash scripts/check-san.sh $(TESTBIN)
else
	RF_BIN=$(BIN) RF_TMP=$(BUILD)/test-tmp RF_CACHE_DIR=$(BUILD)/cl-cache $(TESTBIN)
endif

# The full characterisation (about 10 minutes on 2 cores); `make check` runs
# a reduced one (tests/test_validate.c). Exit status 1: a value out of its
# tolerance (docs/detection.md).
validate: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(VALIDATE)
	OMP_WAIT_POLICY=PASSIVE RF_CACHE_DIR=$(BUILD)/cl-cache $(VALIDATE) --out $(BUILD)/validate

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

# ---- build facts ----------------------------------------------------------
# The git commit (with -dirty for uncommitted changes) goes into
# host/build_info.o alone (rf_build.h); empty when this folder is not the top
# of a git checkout (a tarball), and the program then says "unknown". The
# stamp file changes only when the commit does, so nothing else rebuilds.
RF_GIT_COMMIT := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
  c=$$(git rev-parse --short=12 HEAD 2>/dev/null) && \
  { git diff --quiet HEAD -- 2>/dev/null || c=$$c-dirty; echo $$c; })
$(BUILD)/host/build_info.o: private RF_CFLAGS += -DRF_BUILD_COMMIT='"$(RF_GIT_COMMIT)"'
$(BUILD)/host/build_info.o: $(BUILD)/gen/commit.stamp
$(BUILD)/gen/commit.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(RF_GIT_COMMIT)' | cmp -s - $@ || echo '$(RF_GIT_COMMIT)' > $@

# ---- shared library, man page, install ------------------------------------
# One set of library objects serves libradarflow.a and libradarflow.so:
# position independent, and -fno-semantic-interposition keeps calls inside
# the library as direct (and inlinable) as in a plain executable.
$(LIB_OBJ): private RF_CFLAGS += -fPIC -fno-semantic-interposition
# The objects are rebuilt when these flags change (e.g. a build/ made before
# they were position independent).
RF_LIB_FLAGS = $(CC) $(CFLAGS) $(RF_CFLAGS) -fPIC -fno-semantic-interposition
$(LIB_OBJ): $(BUILD)/lib.flags
$(BUILD)/lib.flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(RF_LIB_FLAGS)' | cmp -s - $@ || echo '$(RF_LIB_FLAGS)' > $@
.PHONY: FORCE

RF_VERSION := $(shell sed -n 's/^\#define RF_VERSION "\(.*\)"/\1/p' host/rf_common.h)
RF_VERSION_MAJOR := $(word 1,$(subst ., ,$(RF_VERSION)))
# While the version is 0.x every minor release may change the ABI (struct
# layouts in the headers), so the soname carries 0.MINOR until 1.0.
RF_SOVERSION := $(if $(filter 0,$(RF_VERSION_MAJOR)),0.$(word 2,$(subst ., ,$(RF_VERSION))),$(RF_VERSION_MAJOR))
SONAME := libradarflow.so.$(RF_SOVERSION)
SOLIB := $(BUILD)/libradarflow.so.$(RF_VERSION)
MAN1 := $(BUILD)/radarflow.1
all: $(SOLIB) $(MAN1)

$(SOLIB): $(LIB_OBJ)
	$(CC) $(CFLAGS) $(RF_LDFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
	  $(LIB_OBJ) $(LDLIBS) -o $@

# The man page is generated from the program's help texts (scripts/gen-man.sh).
$(MAN1): $(BIN) scripts/gen-man.sh README.md
	bash scripts/gen-man.sh $(BIN) README.md > $@.tmp && mv $@.tmp $@

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/radarflow
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# Public headers: every rf_*.h of the library folders (others are internal).
# They are installed in the same folders under include/radarflow/, so their
# relative includes ("../host/rf_common.h") resolve; radarflow.h includes
# them all: #include <radarflow/radarflow.h>, cflags from pkg-config.
PUBLIC_H := $(sort $(wildcard host/rf_*.h io/rf_*.h pipelines/rf_*.h datasets/rf_*.h))
DOC_FILES := README.md bench/RESULTS.md $(sort $(wildcard docs/*.md))
EXAMPLE_FILES := $(sort $(wildcard datasets/scenarios/*.ini datasets/configs/*.ini))
# Everything install puts in place (uninstall removes exactly these).
INSTALLED := $(BINDIR)/radarflow $(LIBDIR)/libradarflow.a $(LIBDIR)/libradarflow.so.$(RF_VERSION) \
  $(LIBDIR)/$(SONAME) $(LIBDIR)/libradarflow.so $(LIBDIR)/pkgconfig/radarflow.pc \
  $(INCLUDEDIR)/radarflow/radarflow.h $(addprefix $(INCLUDEDIR)/radarflow/,$(PUBLIC_H)) \
  $(MANDIR)/man1/radarflow.1 $(BASHCOMPDIR)/radarflow \
  $(addprefix $(DOCDIR)/,$(DOC_FILES)) $(EXAMPLE_FILES:datasets/%=$(DATADIR)/radarflow/%)
# Folders that only radarflow uses: uninstall removes them once empty.
INSTALLED_DIRS := $(sort $(dir $(addprefix $(INCLUDEDIR)/radarflow/,$(PUBLIC_H)) \
  $(addprefix $(DOCDIR)/,$(DOC_FILES)) $(EXAMPLE_FILES:datasets/%=$(DATADIR)/radarflow/%))) \
  $(INCLUDEDIR)/radarflow/ $(DOCDIR)/ $(DATADIR)/radarflow/
# Linking against libradarflow.a needs these too (pkg-config --static).
# OpenBLAS by its library (openblas.pc's private libraries would ask for
# libgfortran's development link, which the shared OpenBLAS does not need).
PC_REQUIRES_PRIVATE := $(filter-out openblas,$(PKGS)) OpenCL
PC_LIBS_PRIVATE := -lfftw3f_omp -fopenmp -lpthread -lm $(if $(OPENBLAS_LIBDIR),-L$(OPENBLAS_LIBDIR) -Wl$(comma)-rpath$(comma)$(OPENBLAS_LIBDIR)) -lopenblas

# ldconfig after (un)installing shared libraries into the running system.
RF_LDCONFIG = if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig || true; fi

.PHONY: install uninstall
install: $(BIN) $(LIB) $(SOLIB) $(MAN1)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(BASHCOMPDIR) $(addprefix $(DESTDIR),$(INSTALLED_DIRS))
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/radarflow
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libradarflow.a
	install -m 755 $(SOLIB) $(DESTDIR)$(LIBDIR)/libradarflow.so.$(RF_VERSION)
	ln -sf libradarflow.so.$(RF_VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libradarflow.so
	for h in $(PUBLIC_H); do install -m 644 $$h $(DESTDIR)$(INCLUDEDIR)/radarflow/$$h || exit 1; done
	{ echo '/* radarflow: every public header (generated by make install). */'; \
	  echo '#ifndef RADARFLOW_H'; echo '#define RADARFLOW_H'; \
	  for h in $(PUBLIC_H); do echo "#include \"$$h\""; done; echo '#endif'; \
	} > $(DESTDIR)$(INCLUDEDIR)/radarflow/radarflow.h
	{ echo 'prefix=$(PREFIX)'; echo 'libdir=$(LIBDIR)'; echo 'includedir=$(INCLUDEDIR)'; echo; \
	  echo 'Name: radarflow'; \
	  echo 'Description: pulse-Doppler processing of recorded radar IQ captures (HDF5)'; \
	  echo 'Version: $(RF_VERSION)'; \
	  echo 'Requires.private: $(PC_REQUIRES_PRIVATE)'; \
	  echo 'Cflags: -I$${includedir}'; \
	  echo 'Libs: -L$${libdir} -lradarflow'; \
	  echo 'Libs.private: $(PC_LIBS_PRIVATE)'; \
	} > $(DESTDIR)$(LIBDIR)/pkgconfig/radarflow.pc
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/radarflow.1
	install -m 644 scripts/radarflow-completion.bash $(DESTDIR)$(BASHCOMPDIR)/radarflow
	for f in $(DOC_FILES); do install -m 644 $$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; done
	for f in $(EXAMPLE_FILES:datasets/%=%); do install -m 644 datasets/$$f $(DESTDIR)$(DATADIR)/radarflow/$$f || exit 1; done
	@$(RF_LDCONFIG)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for d in $$(printf '%s\n' $(addprefix $(DESTDIR),$(INSTALLED_DIRS)) | sort -r); do \
	  [ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done
	@$(RF_LDCONFIG)

-include $(DEPS)

# fuzz.mk -- builds the libFuzzer targets; GNU make, run by `make fuzz`
# (Makefile.am), which passes:
#   SRC      the source tree          O        where objects and targets go
#   CC       clang                    TARGETS  the targets' names
#   DEFS (configure's), DATADIR, BINDIR, ABS_SRCDIR, ABS_BUILDDIR (for
#   src/paths.c), DEPCFLAGS (the libraries' -I), LIBS,
#   SOURCES (libfrontline's)
# The library is compiled again here with the fuzzer's coverage and
# ASan+UBSan (-fsanitize=fuzzer-no-link,...); the main build is untouched.

FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined
ALL_CFLAGS = -std=c11 -Wall -Wno-unused-parameter $(FUZZ_FLAGS) $(DEFS) -I. -D_GNU_SOURCE \
	-DFL_DATADIR='"$(DATADIR)"' -DFL_BINDIR='"$(BINDIR)"' -DFL_SRCDIR='"$(ABS_SRCDIR)"' \
	-DFL_BUILDDIR='"$(ABS_BUILDDIR)"' -I$(SRC)/src -I$(SRC)/fuzz $(DEPCFLAGS) -MMD -MP

LIB_OBJ = $(patsubst %.c,$(O)/%.o,$(filter %.c,$(SOURCES)))
BINS = $(TARGETS:%=$(O)/%-fuzzer)

all: $(BINS)

$(O)/%.o: $(SRC)/%.c
	@mkdir -p $(@D)
	@echo "  CC (fuzz) $*.o"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/libfrontline-fuzz.a: $(LIB_OBJ)
	@rm -f $@
	@ar cr $@ $^

$(O)/%-fuzzer: $(O)/fuzz/%-fuzzer.o $(O)/libfrontline-fuzz.a
	@echo "  CCLD (fuzz) $(@F)"
	@$(CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

.PRECIOUS: $(O)/%.o $(O)/fuzz/%-fuzzer.o
.PHONY: all
-include $(LIB_OBJ:.o=.d) $(TARGETS:%=$(O)/fuzz/%-fuzzer.d)

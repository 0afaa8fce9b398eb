// Writes the sample run history to a file, for screenshots: make_sample_history DB
#include <cstdio>

#include "sample_history.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_sample_history DB\n");
    return 2;
  }
  tb::test::write_sample_history(argv[1]);
  return 0;
}

# Compile through ccache when present. PCH builds need ccache's "sloppiness" for the
# precompiled header's mtime and __DATE__/__TIME__, otherwise every lookup misses.
if(TB_USE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(TB_CCACHE_PROGRAM ccache)
  if(TB_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        # Paths relative to the checkout and no working directory in the hash, so that a
        # fresh clone elsewhere (CI) reuses what an earlier build compiled.
        "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}" "CCACHE_NOHASHDIR=1"
        ${TB_CCACHE_PROGRAM})
    message(STATUS "tunebench: compiling through ${TB_CCACHE_PROGRAM}")
  endif()
endif()

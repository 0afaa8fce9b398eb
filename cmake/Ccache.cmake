# Compile through ccache when present. PCH builds need ccache's "sloppiness" for the
# precompiled header's mtime and __DATE__/__TIME__, otherwise every lookup misses.
if(TB_USE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(TB_CCACHE_PROGRAM ccache)
  if(TB_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        ${TB_CCACHE_PROGRAM})
    message(STATUS "tunebench: compiling through ${TB_CCACHE_PROGRAM}")
  endif()
endif()

# Fails when a C++ file is not formatted with the committed .clang-format.
# Usage: cmake -DROOT=<source dir> -DCLANG_FORMAT=<clang-format> -P check_format.cmake
set(files "")
foreach(dir core ui app tests)
  file(GLOB_RECURSE found "${ROOT}/${dir}/*.h" "${ROOT}/${dir}/*.cpp")
  list(APPEND files ${found})
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no C++ sources found under ${ROOT}")
endif()
execute_process(COMMAND "${CLANG_FORMAT}" --dry-run --Werror --style=file ${files}
                WORKING_DIRECTORY "${ROOT}" RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "files not formatted (fix with: clang-format -i <file>):\n${errors}")
endif()
message(STATUS "${count} C++ files formatted as .clang-format says")

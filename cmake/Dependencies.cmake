# Third-party packages, all from the distribution (see packaging/install-deps.sh).
set(_tb_hint "Run packaging/install-deps.sh (Debian/Ubuntu) to install it.")

find_package(Threads REQUIRED)
find_package(Torch REQUIRED)
if(NOT Torch_FOUND)
  message(FATAL_ERROR "LibTorch not found. ${_tb_hint} Or point CMAKE_PREFIX_PATH at a LibTorch.")
endif()
# CUDA-only code is compiled behind this one switch (DESIGN.md, "Devices and scale").
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(TB_WITH_CUDA ON)
else()
  set(TB_WITH_CUDA OFF)
endif()
message(STATUS "tunebench: LibTorch ${Torch_VERSION} (CUDA: ${TB_WITH_CUDA})")

find_package(yaml-cpp REQUIRED)
find_package(SQLiteCpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ZLIB REQUIRED)  # gzip-compressed data files
find_package(PkgConfig REQUIRED)
pkg_check_modules(ONIGURUMA REQUIRED IMPORTED_TARGET oniguruma)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)

if(TARGET yaml-cpp::yaml-cpp)
  set(TB_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(TB_YAML_TARGET yaml-cpp)
endif()

if(TB_BUILD_GUI)
  find_package(Qt6 REQUIRED COMPONENTS Widgets Svg PrintSupport)  # QCustomPlot needs PrintSupport
  find_package(QCustomPlotQt6 REQUIRED)
endif()
if(TB_BUILD_TESTS)
  find_package(Qt6 COMPONENTS Core Test)
  if(NOT Qt6Test_FOUND)
    message(FATAL_ERROR "TB_BUILD_TESTS needs Qt 6 Test (qt6-base-dev). ${_tb_hint} "
                        "On a machine without Qt, configure with -DTB_BUILD_TESTS=OFF -DTB_BUILD_GUI=OFF.")
  endif()
endif()

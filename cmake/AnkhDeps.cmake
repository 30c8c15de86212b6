# Third-party dependencies, each as an imported target.
find_package(Threads REQUIRED)
find_package(Torch REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(ZLIB REQUIRED)
if(ANKH_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# LibTorch's CMake package defines the imported target `torch`; its include directories are
# treated as system headers so that our warning flags do not fire inside LibTorch.
get_target_property(_torch_inc torch INTERFACE_INCLUDE_DIRECTORIES)
if(_torch_inc)
  set_target_properties(torch PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_torch_inc}")
endif()

# yaml-cpp 0.7 on Debian exports `yaml-cpp` without a namespace; later releases add yaml-cpp::yaml-cpp.
if(TARGET yaml-cpp::yaml-cpp)
  set(ANKH_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(ANKH_YAML_TARGET yaml-cpp)
endif()

if(NOT TARGET HDF5::HDF5)
  message(FATAL_ERROR "FindHDF5 did not create HDF5::HDF5 (CMake >= 3.19 does)")
endif()

# Where ankh's own headers and the generated build_config.h live.
add_library(ankh_headers INTERFACE)
target_include_directories(ankh_headers INTERFACE
  "${PROJECT_SOURCE_DIR}" "${PROJECT_BINARY_DIR}/generated")

# The precompiled header target (see ankh_use_pch in AnkhCompiler.cmake).
add_library(ankh_pch OBJECT "${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp")
target_link_libraries(ankh_pch PUBLIC torch ankh_headers ${ANKH_YAML_TARGET} spdlog::spdlog
                      nlohmann_json::nlohmann_json ankh_warnings)
target_precompile_headers(ankh_pch PUBLIC "${PROJECT_SOURCE_DIR}/cmake/pch.h")

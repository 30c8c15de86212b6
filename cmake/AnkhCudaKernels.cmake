# ankh's own CUDA kernels (trainer/kernels/): compiled with nvcc whenever the CUDA toolkit and its
# compiler are found, even when LibTorch is CPU-only, so that every machine that builds ankh
# compiles them (CI has /usr/local/cuda but no GPU). Code for the H100/H200 (sm_90a) and PTX for
# compute_80 that the driver compiles for any later chip.
option(ANKH_WITH_CUDA_KERNELS "Compile ankh's CUDA kernels when nvcc is found" ON)
set(ANKH_HAVE_CUDA_KERNELS 0)

if(ANKH_WITH_CUDA_KERNELS AND NOT ANKH_FUZZ)
  if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
    set(CUDAToolkit_ROOT /usr/local/cuda)
  endif()
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND AND NOT CMAKE_CUDA_COMPILER AND EXISTS "${CUDAToolkit_BIN_DIR}/nvcc")
    set(CMAKE_CUDA_COMPILER "${CUDAToolkit_BIN_DIR}/nvcc")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CUDAToolkit_FOUND AND CMAKE_CUDA_COMPILER)
    # nvcc compiles the host side with the C++ compiler of the rest of the build.
    set(CMAKE_CUDA_HOST_COMPILER "${CMAKE_CXX_COMPILER}")
    # The architectures are given as -gencode flags on the target (sm_90a's "a" needs them).
    set(CMAKE_CUDA_ARCHITECTURES OFF)
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    if(ANKH_CCACHE)
      set(CMAKE_CUDA_COMPILER_LAUNCHER ${ANKH_CCACHE})
    endif()
    set(ANKH_HAVE_CUDA_KERNELS 1)
    message(STATUS "ankh: CUDA kernels enabled (${CMAKE_CUDA_COMPILER}, CUDA ${CUDAToolkit_VERSION})")
  else()
    message(STATUS "ankh: nvcc not found: no CUDA kernels (LibTorch ops instead)")
  endif()
endif()

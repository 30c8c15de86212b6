# NCCL: compiled in whenever nccl.h, libnccl and the CUDA runtime are found (they are under
# /usr/local/cuda on our machines), even when LibTorch itself is CPU-only. The communicator
# then talks to the CUDA runtime directly; nothing CUDA has to run for the build to pass.
set(ANKH_HAVE_NCCL 0)
set(ANKH_TORCH_CUDA 0)
if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda OR TARGET c10_cuda)
  set(ANKH_TORCH_CUDA 1)
endif()

if(ANKH_WITH_NCCL)
  if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
    set(CUDAToolkit_ROOT /usr/local/cuda)
  endif()
  find_package(CUDAToolkit QUIET)
  find_path(NCCL_INCLUDE_DIR nccl.h
            HINTS ${NCCL_ROOT} ENV NCCL_ROOT ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda
            PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2
               HINTS ${NCCL_ROOT} ENV NCCL_ROOT ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda
               PATH_SUFFIXES lib lib64)
  if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    add_library(ankh_nccl INTERFACE)
    target_include_directories(ankh_nccl SYSTEM INTERFACE "${NCCL_INCLUDE_DIR}")
    target_link_libraries(ankh_nccl INTERFACE "${NCCL_LIBRARY}" CUDA::cudart)
    set(ANKH_HAVE_NCCL 1)
    message(STATUS "ankh: NCCL communicator enabled (${NCCL_LIBRARY}, CUDA ${CUDAToolkit_VERSION})")
  else()
    message(STATUS "ankh: NCCL or the CUDA runtime not found: MPI communicator only")
  endif()
endif()

# Install rules and package files, included by the top-level CMakeLists.txt.
#
#   cmake --install build --prefix P   puts in P:
#     include/nabla/*.h                 the public headers
#     lib/libnabla.a (or .so)           the library
#     bin/nabla                         the command (when built)
#     lib/cmake/nabla/                  nablaConfig.cmake, nablaConfigVersion.cmake and the
#                                       exported target nabla::nabla, for find_package(nabla 0.2)
#     lib/pkgconfig/nabla.pc            for pkg-config --cflags --libs nabla
#
# Both package files find their prefix relative to where they lie, so the tree can be moved.
include(CMakePackageConfigHelpers)

if(NOT NABLA_INSTALL)
  return()
endif()

set(NABLA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)

install(TARGETS nabla EXPORT nablaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/nabla DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
if(TARGET nabla_cli)
  install(TARGETS nabla_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT nablaTargets NAMESPACE nabla:: DESTINATION ${NABLA_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/nablaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nablaConfig.cmake INSTALL_DESTINATION ${NABLA_CMAKE_DIR})
# 0.x: a minor version may break the API, so 0.2 is satisfied by 0.2.y only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nablaConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nablaConfig.cmake ${PROJECT_BINARY_DIR}/nablaConfigVersion.cmake
        DESTINATION ${NABLA_CMAKE_DIR})

# nabla.pc: the prefix is found from the file's own directory (${pcfiledir}/../..).
# A static libnabla.a brings the libraries it uses to the link line; a shared one hides them.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(NABLA_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  string(REGEX REPLACE "[^/]+" ".." NABLA_PC_UP "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  set(NABLA_PC_PREFIX "\${pcfiledir}/${NABLA_PC_UP}")
endif()
set(NABLA_PC_DEPS "-lopenblas -lpng -lz")
if(NABLA_MPI)
  string(APPEND NABLA_PC_DEPS " -lmpi")
endif()
if(BUILD_SHARED_LIBS)
  set(NABLA_PC_LIBS "")
  set(NABLA_PC_LIBS_PRIVATE "${NABLA_PC_DEPS}")
else()
  set(NABLA_PC_LIBS " ${NABLA_PC_DEPS}")
  set(NABLA_PC_LIBS_PRIVATE "")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/nabla.pc.in ${PROJECT_BINARY_DIR}/nabla.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nabla.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# install() rules, CMake package config and pkg-config files.
#
# Installed layout (GNUInstallDirs; LIBDIR is "lib" unless the prefix is /usr
# on Debian, where it is "lib/x86_64-linux-gnu"):
#   INCLUDEDIR/mmnsim/*.h                 public headers + generated version.h
#   LIBDIR/libmmnsim.so.X.Y.Z, .so.X, .so shared library  (mmnsim::mmnsim)
#   LIBDIR/libmmnsim.a                    static library  (mmnsim::mmnsim_static)
#   LIBDIR/cmake/mmnsim/                  find_package(mmnsim CONFIG)
#   LIBDIR/pkgconfig/mmnsim.pc            pkg-config, shared library
#   LIBDIR/pkgconfig/mmnsim-static.pc     pkg-config, static library
#   INCLUDEDIR/mmnsim/compat/linux/*.h    the kernel-compatibility headers
#   LIBDIR/pkgconfig/mmnsim-compat.pc     pkg-config: -I.../mmnsim/compat, Requires mmnsim
#                                         (CMake: target mmnsim::compat, variable
#                                         mmnsim_COMPAT_INCLUDE_DIR; docs/compat.md)
#   BINDIR/mmnsim                         the command line (when sim/ is built)
#   MANDIR/man1/mmnsim.1, man5/mmnsim-scenario.5
#
# Components: Runtime (the .so.X files) and Development (everything else).

option(MMN_INSTALL "Generate mmnsim's install rules" ${MMN_TOP_LEVEL})
if(NOT MMN_INSTALL)
  return()
endif()

include(CMakePackageConfigHelpers)

set(MMN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mmnsim)

install(TARGETS mmnsim mmnsim_static
  EXPORT mmnsimTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    COMPONENT Runtime
    NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    COMPONENT Development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    COMPONENT Runtime)

# Every header under include/mmnsim (new ones included), then the generated one.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mmnsim
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT Development
  FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/mmnsim/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mmnsim
  COMPONENT Development)

# --- CMake package: find_package(mmnsim CONFIG) ----------------------------
install(EXPORT mmnsimTargets
  NAMESPACE mmnsim::
  DESTINATION ${MMN_INSTALL_CMAKEDIR}
  COMPONENT Development)
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/mmnsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/mmnsimConfig.cmake
  INSTALL_DESTINATION ${MMN_INSTALL_CMAKEDIR}
  NO_SET_AND_CHECK_MACRO)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/mmnsimConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
    ${PROJECT_BINARY_DIR}/cmake/mmnsimConfig.cmake
    ${PROJECT_BINARY_DIR}/cmake/mmnsimConfigVersion.cmake
  DESTINATION ${MMN_INSTALL_CMAKEDIR}
  COMPONENT Development)

# --- pkg-config: mmnsim.pc, mmnsim-static.pc, mmnsim-compat.pc ---------------
# The .pc files carry absolute paths, so they are finished at install time,
# when the real prefix is known (`cmake --install build --prefix DIR` works).
# Configure time fills in everything else and leaves the @MMN_PC_PREFIX@ token.
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(MMN_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(MMN_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
set(MMN_PC_PREFIX "@MMN_PC_PREFIX@")
foreach(pc mmnsim mmnsim-static mmnsim-compat)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in
                 ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc.in @ONLY)
  install(CODE "
    set(MMN_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc.in\"
                   \"${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc\" @ONLY)"
    COMPONENT Development)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
    COMPONENT Development)
endforeach()

# --- the command line and its man pages --------------------------------------
# mmnsim (sim/, when built) finds the installed libmmnsim.so through its
# RPATH; man/mmnsim.1 and man/mmnsim-scenario.5 are written in mdoc.
if(TARGET mmnsim-cli)
  set_target_properties(mmnsim-cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
  install(TARGETS mmnsim-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime)
  install(FILES ${PROJECT_SOURCE_DIR}/man/mmnsim.1
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT Runtime)
  install(FILES ${PROJECT_SOURCE_DIR}/man/mmnsim-scenario.5
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man5 COMPONENT Runtime)
endif()

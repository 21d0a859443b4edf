# Finds fleetcap's dependencies with pkg-config. Each is a Debian 12 package;
# a missing one stops the configure step naming the package to install
# (scripts/deps.sh installs them all).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package 'pkg-config' (or run scripts/deps.sh)")
endif()

# fleetcap_require(VAR MODULE DEBIAN_PACKAGE): imported target PkgConfig::VAR.
function(fleetcap_require var module debian_package)
  pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "missing dependency '${module}': install the Debian package '${debian_package}' (or run scripts/deps.sh)")
  endif()
  message(STATUS "found ${module} ${${var}_VERSION}")
endfunction()

fleetcap_require(RDKAFKA rdkafka librdkafka-dev)
fleetcap_require(PCAP libpcap libpcap-dev)
fleetcap_require(PROTOBUFC libprotobuf-c libprotobuf-c-dev)
fleetcap_require(CURL libcurl libcurl4-openssl-dev)
fleetcap_require(OPENSSL openssl libssl-dev)
fleetcap_require(JANSSON jansson libjansson-dev)
fleetcap_require(MHD libmicrohttpd libmicrohttpd-dev)
fleetcap_require(GNUTLS gnutls libgnutls28-dev)
if(FLEETCAP_TESTS)
  fleetcap_require(CMOCKA cmocka libcmocka-dev)
endif()

find_program(PROTOC_C protoc-c)
if(NOT PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: install the Debian package 'protobuf-c-compiler' (or run scripts/deps.sh)")
endif()

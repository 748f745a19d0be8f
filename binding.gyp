# The native data plane (issue 12): one Node-API addon, build/Release/ferry_native.node, built with
# node-addon-api (header-only) by node-gyp from scripts/build-native.js, the package's install
# script. Linux only (epoll, recvmmsg/sendmmsg, SO_REUSEPORT): the install script does not build it
# on other systems, and Ferry runs its TypeScript data path there.
{
  'variables': {
    # The addon's C++ sources, all of them and only here (scripts/setup.sh rebuilds when any file
    # under native/src/ or this file is newer than the built addon).
    'ferry_native_sources': [
      'native/src/addon.cc',
      'native/src/plane.cc',
      'native/src/sockets.cc',
      'native/src/worker.cc',
      'native/src/packet.cc',
    ],
  },
  'targets': [
    {
      'target_name': 'ferry_native',
      'sources': [ '<@(ferry_native_sources)' ],
      'include_dirs': [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      # Node-API 8 (Node 12.22+, every Node Ferry supports); node-addon-api throws C++ exceptions
      # for JS errors instead of returning empty values.
      'defines': [ 'NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS' ],
      # Node's common.gypi adds -fno-exceptions, -O3 (Release) and its own -std (gnu++17 on
      # Node 20, gnu++20 on Node 24): removed here so one set of flags holds for every Node.
      'cflags!': [ '-fno-exceptions', '-O3' ],
      'cflags_cc!': [ '-fno-exceptions', '-std=gnu++17', '-std=gnu++20' ],
      'cflags': [ '-O2', '-fvisibility=hidden', '-pthread' ],
      'cflags_cc': [ '-std=c++17', '-fexceptions' ],
      # -z now: every symbol is bound when the addon loads, so a function missing from the sources
      # (a file left out of the list above) fails the install script's load check, not a call later.
      'ldflags': [ '-pthread', '-Wl,-z,now' ],
    },
  ],
}

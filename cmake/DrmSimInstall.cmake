# Install rules: headers, library, CMake package and pkg-config file.

#!/bin/sh
# a greeting, then each line read back changed, until stdin ends
echo "hello"
while IFS= read -r line; do echo "got: $line"; done

#!/bin/sh
# never reads its stdin
echo "ready"
exec sleep 1000

#!/bin/sh
# the environment, one NAME=VALUE a line, sorted
env | LC_ALL=C sort

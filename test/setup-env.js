// Runs in every jest worker before its test file. The suite runs two workers on two cores, each with a
// two-thread pool: an idle pool thread spinning the default 20 ms (kernels/cpu/parallel.cc) during one
// worker's JavaScript stretches would take the core the other worker needs. Tests time nothing, so they
// keep the short spin unless the environment already chose one.
if (process.env.FAIRTUNE_SPIN_US === undefined) process.env.FAIRTUNE_SPIN_US = '200';

/**
 * The help texts of the command line.
 */

/** `asyncjobs --help`. */
export const MAIN_HELP = `asyncjobs: run a graph of jobs from a workflow file, with a live view

Usage:
  asyncjobs run FILE [options]       run the workflow
  asyncjobs list FILE [--details]    list its jobs in order, without running anything
  asyncjobs check FILE               validate it (schema, requirements, cycles)
  asyncjobs graph FILE [-o OUT]      draw it; OUT ends in .svg, .png, .dot or .mmd
  asyncjobs runs FILE                list the past runs in its journal
  asyncjobs show FILE [RUN]          debrief a past run (default: the last)
  asyncjobs help [COMMAND]           show this help, or that of a command

FILE is either
  - a YAML or JSON workflow (.yaml, .yml, .json), or
  - a JavaScript or TypeScript module (.js, .mjs, .cjs, .ts, .mts, .cts) whose
    default export is a Scheduler, or a function (maybe async) returning one;
    TypeScript needs no build step.

Options of run:
  -w, --window N     run at most N jobs at once (0: no limit); wins over the file
  -t, --timeout D    give up after D (500ms, 30s, 2m, 1h, 1m30s; at most 596h31m);
                     wins over the file
  -v, --verbose      print every output line of the commands above the live table
  -q, --quiet        without a terminal, leave out what the commands print
      --ascii        use ASCII only (badges, spinner); also ASYNCJOBS_ASCII=1
      --plain        one line per event even on a terminal
  -n, --dry-run      list the jobs, do not run them
  -r, --resume       run only what did not succeed in the last run, or changed
      --ui           serve a live view of the run in the browser; prints its URL
      --port N       (with --ui) the port to listen on; default: any free one
      --host ADDR    (with --ui) the address to listen on; default: 127.0.0.1
      --report FILE  once the run is over, write an HTML report to FILE

Other options:
  -d, --details      (list) show each job's details, e.g. its full command line
  -o, --output OUT   (graph) the file to write; without it, DOT goes to stdout
  -f, --format F     (graph) dot or mmd, for stdout
  -h, --help         show help
  -V, --version      show the version

A YAML workflow:
  window: 2                  # at most 2 jobs at once
  timeout: 5m                # for the whole run
  jobs:
    - id: install
      run: npm ci            # a command line (no shell), or a list: [npm, ci]
    - id: lint
      run: npx biome check .
      requires: install
    - id: tests
      requires: install
      jobs:                  # a nested group: a scheduler of its own
        - { id: unit, run: npm test }
        - { id: e2e, run: "npm run e2e", critical: false, timeout: 2m }

  Keys of a job: id, label, run, jobs, requires, critical (default true),
  forever, timeout, window (groups), shell (true or a shell's path), cwd,
  env, capture (the job's result is its standard output), retry (a number,
  or { retries, delay, factor, maxDelay, jitter }), trigger (allDone,
  allSuccess, oneFailed, noneFailed), weight, pool, readyWhen (a forever
  command is ready once it prints a line containing this text), on (the host
  its commands run on over SSH: a name of the hosts inventory,
  [user@]host[:port], or local), via (a gateway, or a list of them, to reach
  it). shell, cwd, env, on and via set at the top or on a group apply to the
  jobs inside; pools: { name: slots } at the top or on a group declares the
  pools below it; hosts: at the top is the path of a hosts inventory file
  (relative to the workflow) that names the hosts of on: and via:.

On a terminal, run redraws a table of the jobs in place; otherwise it prints
one line per event, and each line the commands print prefixed with [job].
Every run is recorded in a journal, .asyncjobs/<FILE's name>/ beside FILE
(the last 20 runs), which --resume, runs and show read. Ctrl-C cancels the
run cleanly (jobs cancelled, programs terminated, shutdown run); a second
Ctrl-C exits at once. SIGTERM, SIGHUP (the terminal closed) and SIGQUIT do
the same as Ctrl-C.

Exit status: 0 success, 1 the run failed, 2 a usage or file error,
128 + the signal's number when stopped by one (130 Ctrl-C, 143 SIGTERM).
`;

/** Help of each command. */
export const COMMAND_HELP: Record<string, string> = {
  run: `Usage: asyncjobs run FILE [options]

Runs the workflow in FILE. On a terminal, a table of the jobs is redrawn in
place (badge, label, elapsed time, last output line, result or error) with
the counts of done, running and idle jobs, the time elapsed and an estimate
of the time left; otherwise one line is printed per event, and each line the
commands print, prefixed with [job] (--quiet leaves those out). If the run fails,
the debrief follows: why, the listing, and each exception.

Options:
  -w, --window N     run at most N jobs at once (0: no limit); wins over the file
  -t, --timeout D    give up after D (500ms, 30s, 2m, 1h, 1m30s; at most 596h31m);
                     wins over the file
  -v, --verbose      print every output line of the commands above the live table
  -q, --quiet        without a terminal, leave out what the commands print
      --ascii        use ASCII only (badges, spinner)
      --plain        one line per event even on a terminal
  -n, --dry-run      list the jobs, do not run them
  -r, --resume       run again only the jobs that did not succeed in the last
                     run, or whose definition (or a requirement's) changed;
                     the others keep their recorded results
      --ui           serve a live view of the run in the browser; prints its URL
      --port N       (with --ui) the port to listen on; default: any free one
      --host ADDR    (with --ui) the address to listen on; default: 127.0.0.1
      --report FILE  once the run is over, write an HTML report to FILE

Every run is recorded in .asyncjobs/<FILE's name>/ beside FILE.
Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT) cancels the run cleanly; a second one
exits at once. Exit status: 0 success, 1 the run failed, 2 a usage or file
error, 128 + the signal's number when stopped by one (130 for Ctrl-C).
`,
  list: `Usage: asyncjobs list FILE [--details] [--ascii]

Lists the jobs of the workflow in the order they can run, with their badge
and requirements, without running anything.

Options:
  -d, --details      show each job's details, e.g. its full command line
      --ascii        use ASCII only
`,
  check: `Usage: asyncjobs check FILE

Validates the workflow without running it: every mistake (unknown key,
wrong type, unknown requirement, duplicate id, cycle, a command that needs a
shell) is reported with its line and column. Exits 0 when the file is valid,
2 otherwise.
`,
  graph: `Usage: asyncjobs graph FILE [-o OUT] [-f dot|mmd]

Draws the graph of the workflow: jobs as boxes, requirements as arrows,
nested groups as clusters. OUT's extension picks the format: .svg or .png
(rendered without a system Graphviz), .dot (Graphviz source) or .mmd
(Mermaid). Without -o, the DOT text (or Mermaid with -f mmd) goes to stdout.
`,
  runs: `Usage: asyncjobs runs FILE

Lists the runs of the workflow in FILE that its journal holds (the last 20),
oldest first: a number, the run's id, when it started, how long it took, its
outcome and how many jobs were done, resumed, failed, cancelled, skipped or
not run. A run killed outright shows as unfinished.
`,
  show: `Usage: asyncjobs show FILE [RUN] [--ascii]

Prints the debrief of a past run of the workflow in FILE: its outcome, the
listing of its jobs with their badges (↷ for a resumed job) and results, and
the last lines of output of each job that failed. RUN is a run's number or
id as runs prints them; without it, the last run.
`,
};

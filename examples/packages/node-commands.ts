/**
 * The node package's README: two commands, the second through the shell and
 * only once the first has succeeded. Here the commands are harmless stand-ins
 * for a build and its tests.
 */
import { CommandJob } from "@asyncjobs/node";
import { Scheduler } from "asyncjobs";

const build = new CommandJob(["node", "-e", "console.log('built')"], {
  label: "build",
  timeout: 60_000,
});
const test = new CommandJob("echo testing && echo passed", {
  shell: true,
  label: "test",
  required: build,
});
await new Scheduler(build, test).run();

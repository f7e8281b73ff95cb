/**
 * The live view on a narrow terminal with text wider than it looks: CJK
 * labels, emoji in command output, combining accents, zero-width
 * characters. The view redraws itself by moving the cursor up one row per
 * line it drew, so a line that wraps leaves rows behind; a small terminal
 * emulator shows what the screen holds after a few redraws.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PureScheduler } from "asyncjobs";
import { gatedJob } from "../../core/test/support.js";
import { LiveView } from "../src/live-view.js";
import { RunModel } from "../src/run-model.js";
import { displayWidth, padToWidth, truncateToWidth } from "../src/text-width.js";

/**
 * The rows a terminal of `columns` columns shows once `output` is written:
 * lines wrap at the right edge (by display width), `ESC[nF` goes up n rows,
 * `ESC[K` clears the rest of the row, `ESC[J` the rest of the screen; other
 * escape sequences change nothing on screen.
 */
function screen(output: string, columns: number): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const cells = (): string[] => {
    while (rows.length <= row) rows.push([]);
    return rows[row]!;
  };
  const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal output is parsed.
  const tokens = output.split(/(\u001b\[[0-9;?]*[A-Za-z]|\n)/);
  for (const token of tokens) {
    if (token === "") continue;
    if (token === "\n") {
      row++;
      col = 0;
      cells();
      continue;
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal output is parsed.
    const sequence = /^\u001b\[([0-9;?]*)([A-Za-z])$/.exec(token);
    if (sequence) {
      const [, argument, command] = sequence;
      if (command === "F") {
        row = Math.max(0, row - Number(argument || 1));
        col = 0;
      } else if (command === "K") {
        cells().length = col;
      } else if (command === "J") {
        cells().length = col;
        rows.length = row + 1;
      }
      continue;
    }
    for (const { segment } of segmenter.segment(token)) {
      const width = displayWidth(segment);
      if (col + width > columns) {
        row++;
        col = 0;
      }
      const line = cells();
      while (line.length < col) line.push(" ");
      line[col] = segment;
      // A wide character takes the next cell too.
      for (let extra = 1; extra < width; extra++) line[col + extra] = "";
      col += width;
    }
  }
  return rows.map((cellsOfRow) => cellsOfRow.join("").trimEnd());
}

/** A fake terminal that keeps everything written to it. */
function terminal(columns: number, rows: number) {
  let written = "";
  return {
    columns,
    rows,
    write(chunk: string) {
      written += chunk;
      return true;
    },
    written: () => written,
  };
}

describe("the live view measures text in terminal columns", () => {
  it("keeps a 60-column screen to one title and one row per job with wide labels and output", async () => {
    const wide = gatedJob("部署到生产环境的服务器集群并检查所有健康状态", { critical: false });
    const plain = gatedJob("build");
    const scheduler = new PureScheduler(wide.job, plain.job);
    const model = new RunModel(scheduler);
    const term = terminal(60, 24);
    const title = "asyncjobs run 工作流程.yaml · window 2";
    const view = new LiveView(model, term, { title, interval: 60_000 });
    view.start();
    const run = scheduler.run();
    await Promise.all([wide.started, plain.started]);
    // What the commands printed last, as the model keeps it.
    model.rowOf(wide.job)!.lastLine =
      "🚀🚀🚀 部署中 — 正在上传构件 🎉🎉🎉 到所有节点 ✅✅✅ 请稍候";
    model.rowOf(plain.job)!.lastLine =
      "compiled 1́2́3́ files\u200b\u200b\u200b with e\u0301 accents ok";
    for (let frame = 0; frame < 9; frame++) view.render();
    const shown = screen(term.written(), 60);
    assert.equal(
      shown.filter((line) => line.startsWith("asyncjobs run")).length,
      1,
      `one title on screen:\n${shown.join("\n")}`,
    );
    assert.equal(shown.filter((line) => line.includes("部署")).length, 1, shown.join("\n"));
    assert.equal(shown.filter((line) => line.includes("build")).length, 1, shown.join("\n"));
    for (const line of term.written().split("\n")) {
      assert.ok(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences take no room.
        displayWidth(line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "")) < 60,
        `fits in 59 columns: ${line}`,
      );
    }
    wide.open("ok");
    plain.open("ok");
    assert.equal(await run, true);
    view.stop();
  });

  it("draws 80×24 on a terminal that says its size is 0×0", async () => {
    const job = gatedJob("a-job-with-a-label-of-forty-characters-");
    const scheduler = new PureScheduler(job.job);
    const model = new RunModel(scheduler);
    const term = terminal(0, 0);
    const title = `title ${"x".repeat(60)}`;
    const view = new LiveView(model, term, { title, interval: 60_000 });
    view.start();
    const run = scheduler.run();
    await job.started;
    view.render();
    const frame = term.written().slice(term.written().lastIndexOf("title"));
    // The whole title fits in 79 columns (20 columns would cut it).
    assert.match(frame, new RegExp(`^${title}\\u001b`));
    job.open("done");
    assert.equal(await run, true);
    view.stop();
  });
});

describe("text-width helpers", () => {
  it("count CJK and emoji as two columns, combining and zero-width characters as none", () => {
    assert.equal(displayWidth("abc"), 3);
    assert.equal(displayWidth("中文"), 4);
    assert.equal(displayWidth("🎉"), 2);
    assert.equal(displayWidth("e\u0301"), 1);
    assert.equal(displayWidth("a\u200bb"), 2);
    assert.equal(displayWidth("👩‍💻"), 2);
  });

  it("truncate between graphemes, to at most the width, ellipsis included", () => {
    assert.equal(truncateToWidth("hello", 10), "hello");
    assert.equal(truncateToWidth("hello world", 6), "hello…");
    assert.equal(truncateToWidth("中文字符", 5), "中文…");
    assert.equal(truncateToWidth("中文字符", 6), "中文…");
    assert.equal(truncateToWidth("🎉🎉🎉", 4), "🎉…");
    assert.equal(truncateToWidth("e\u0301e\u0301e\u0301e\u0301", 3), "e\u0301e\u0301…");
    assert.equal(truncateToWidth("👩‍💻👩‍💻👩‍💻", 5), "👩‍💻👩‍💻…");
    assert.equal(truncateToWidth("abcdef", 4, "~"), "abc~");
    assert.equal(truncateToWidth("abc", 0), "");
    for (const text of ["中文字符串", "🎉a🎉b🎉", "x\u200by\u200bz", "ab\u0301cd"]) {
      for (let width = 1; width < 8; width++) {
        assert.ok(displayWidth(truncateToWidth(text, width)) <= width, `${text} in ${width}`);
      }
    }
  });

  it("pad to a width in columns", () => {
    assert.equal(padToWidth("中", 4), "中  ");
    assert.equal(padToWidth("e\u0301", 3), "e\u0301  ");
    assert.equal(padToWidth("toolong", 3), "toolong");
  });
});

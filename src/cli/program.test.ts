import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';

/** Every command under `command` with its full name (`sync trash list`), the root included. */
function allCommands(command: Command, prefix = ''): [string, Command][] {
  const name = prefix ? `${prefix} ${command.name()}` : command.name();
  return [[name, command], ...command.commands.flatMap((child) => allCommands(child, name))];
}

/** What `wharf ... --help` prints: the usage, options and the text added after it. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s) });
  command.outputHelp();
  return text;
}

describe('wharf --help', () => {
  const commands = allCommands(buildProgram(() => async () => undefined));

  it('walks the whole command tree', () => {
    const names = commands.map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining(['wharf', 'wharf table query', 'wharf sync trash list']));
    expect(names.length).toBeGreaterThan(40);
  });

  it.each(commands)('%s --help has an "Examples:" section with a wharf command', (name, command) => {
    const help = helpOf(command);
    expect(help).toContain('\nExamples:\n');
    // An example of this very command (after global flags such as --json, or inside $(...)).
    const words = name.split(' ').slice(1).join(' ');
    const examples = help.slice(help.indexOf('\nExamples:\n')).split('\n');
    expect(examples.some((line) => line.includes('wharf') && line.includes(words))).toBe(true);
  });

  it('a "Subcommands:" line in the help names every subcommand', () => {
    const withLine = commands.filter(([, command]) => helpOf(command).includes('\nSubcommands: '));
    expect(withLine.length).toBeGreaterThan(0);
    for (const [name, command] of withLine) {
      const line = /\nSubcommands: (.*)/.exec(helpOf(command))?.[1] ?? '';
      const named = line.split(/[\s,|()]+/);
      const missing = command.commands.map((c) => c.name()).filter((sub) => !named.includes(sub));
      expect({ name, missing }).toEqual({ name, missing: [] });
    }
  });
});

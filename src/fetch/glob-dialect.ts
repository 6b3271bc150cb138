/** How --include / --exclude patterns are read; shown in the CLI's help (a module of its own: no picomatch). */
export const GLOB_DIALECT_HELP = [
  'Patterns match keys relative to the dataset prefix, from its start (no leading /):',
  "  *  any characters within one folder     **  any number of folders (e.g. '**/*.csv')",
  '  ?  one character   [abc] [0-9]  one of the set   {a,b}  either alternative',
  "Every other character is itself, ( ) | ! + @ too. Names starting with '.' match like any other.",
  "A backslash matches the next character as itself: '**/q\\?.csv' takes q?.csv, not qx.csv.",
  "A folder's whole content: 'folder/**'. A key matching any --include is kept unless it matches an --exclude.",
].join('\n');

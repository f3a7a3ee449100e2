package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"freezer.dev/freezer/internal/config"
)

// completionData lists each command's option spellings, as cliff's
// `complete` gathers them.
func (a *App) completionData() ([]string, map[string][]string) {
	cmds := a.commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	opts := map[string][]string{}
	for _, n := range names {
		o := []string{"-h", "--help"}
		for _, arg := range cmds[n].spec(a.Name).Args {
			if arg.Positional {
				continue
			}
			if arg.LongFirst {
				o = append(o, "--"+arg.Name)
				if arg.Short != "" {
					o = append(o, "-"+arg.Short)
				}
				continue
			}
			if arg.Short != "" {
				o = append(o, "-"+arg.Short)
			}
			o = append(o, "--"+arg.Name)
		}
		opts[n] = o
	}
	return names, opts
}

func completeCmd(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	name := p.String("name")
	names, opts := a.completionData()
	var globals []string
	for _, g := range globalArgs() {
		if g.Short != "" {
			globals = append(globals, "-"+g.Short)
		}
		globals = append(globals, "--"+g.Name)
		for _, al := range g.Aliases {
			globals = append(globals, "--"+al)
		}
	}
	fn := "_" + strings.NewReplacer("-", "_", ".", "_").Replace(name)
	w := a.Stdout
	switch p.String("shell") {
	case "none":
		fmt.Fprintf(w, "cmds='%s'\n", strings.Join(names, " "))
		for _, n := range names {
			fmt.Fprintf(w, "cmds_%s='%s'\n", strings.ReplaceAll(n, "-", "_"), strings.Join(opts[n], " "))
		}
	case "zsh":
		fmt.Fprintf(w, "#compdef %s\n\n%s() {\n  local -a cmds\n  cmds=(\n", name, fn)
		cmds := a.commands()
		for _, n := range names {
			fmt.Fprintf(w, "    '%s:%s'\n", n, strings.ReplaceAll(cmds[n].help, "'", "'\\''"))
		}
		fmt.Fprintf(w, "  )\n  local -a globals\n  globals=(%s)\n", strings.Join(globals, " "))
		fmt.Fprintf(w, "  local cmd=\"\" w\n  for w in \"${words[@]:1:$((CURRENT-2))}\"; do\n    [[ $w == -* ]] && continue\n    cmd=$w; break\n  done\n")
		fmt.Fprintf(w, "  if [[ -z $cmd ]]; then\n    if [[ $PREFIX == -* ]]; then compadd -- $globals; else _describe -t commands '%s command' cmds; fi\n    return\n  fi\n", name)
		fmt.Fprintf(w, "  local -a opts\n  case $cmd in\n")
		for _, n := range names {
			fmt.Fprintf(w, "    %s) opts=(%s) ;;\n", n, strings.Join(opts[n], " "))
		}
		fmt.Fprintf(w, "  esac\n  if [[ $PREFIX == -* ]]; then compadd -- $opts $globals; else _files; fi\n}\n\ncompdef %s %s\n", fn, name)
	default: // bash
		fmt.Fprintf(w, "%s()\n{\n  local cur prev words\n  COMPREPLY=()\n  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n", fn)
		fmt.Fprintf(w, "  local globals='%s'\n", strings.Join(globals, " "))
		fmt.Fprintf(w, "  cmds='%s'\n", strings.Join(names, " "))
		for _, n := range names {
			fmt.Fprintf(w, "  cmds_%s='%s'\n", strings.ReplaceAll(n, "-", "_"), strings.Join(opts[n], " "))
		}
		fmt.Fprintf(w, `  local cmd="" i
  for (( i=1; i<COMP_CWORD; i++ )); do
    case "${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=( $(compgen -W "$globals" -- "$cur") )
    else
      COMPREPLY=( $(compgen -W "$cmds" -- "$cur") )
    fi
    return 0
  fi
  local var="cmds_${cmd//-/_}"
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "${!var} $globals" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
  return 0
}
complete -F %s %s
`, fn, name)
	}
	return nil, nil, nil
}

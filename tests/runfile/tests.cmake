# Schedule files of `tempo run` (docs/run-file.md): the parser and the reload
# diff, compiled from the tool's sources into a cmocka program (label: tool).
# The parser uses the public API only, like the rest of the tool, so it links
# tempo_static; the include directory is the tool's own. The sources are
# listed rather than globbed: a daemon file added to tools/tempo later may
# need the rest of the tool, which this test does not link.
set(_runfile_dir ${PROJECT_SOURCE_DIR}/tools/tempo)
tempo_add_test(NAME test_runfile
  SOURCES ${PROJECT_SOURCE_DIR}/tests/tool/test_runfile.c
    ${_runfile_dir}/runfile_build.c ${_runfile_dir}/runfile_diff.c
    ${_runfile_dir}/runfile_entry.c ${_runfile_dir}/runfile_error.c
    ${_runfile_dir}/runfile_every.c ${_runfile_dir}/runfile_line.c
    ${_runfile_dir}/runfile_load.c ${_runfile_dir}/runfile_parse.c
    ${_runfile_dir}/runfile_phrase.c ${_runfile_dir}/runfile_settings.c
    ${_runfile_dir}/runfile_trigger.c ${_runfile_dir}/runfile_value.c
  LINK tempo_static
  LABELS tool)
target_include_directories(test_runfile PRIVATE ${_runfile_dir})

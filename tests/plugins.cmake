# Example and test plugins, built as real shared objects and loaded by the tests.
foreach(p annotate_veto)
  add_library(plugin_${p} MODULE ${PROJECT_SOURCE_DIR}/examples/plugins/${p}.c)
endforeach()
foreach(p bad_abi no_symbol crash_on_bind misbehave crash_on_load)
  add_library(plugin_${p} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/unit/plugin/data/${p}.c)
endforeach()
foreach(p annotate_veto bad_abi no_symbol crash_on_bind misbehave crash_on_load)
  target_include_directories(plugin_${p} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  set_target_properties(plugin_${p} PROPERTIES PREFIX "" OUTPUT_NAME ${p})
  if(TARGET test_plugin)
    add_dependencies(test_plugin plugin_${p})
  endif()
endforeach()
if(TARGET test_plugin)
  target_compile_definitions(test_plugin PRIVATE
    PLUGIN_DIR="$<TARGET_FILE_DIR:plugin_annotate_veto>"
    HOOK_EXAMPLE="${PROJECT_SOURCE_DIR}/examples/hooks/log-event")
endif()

# Turns data/gpu-db/*.json into a C++ source holding the text, so the binary needs
# no data files at run time. Regenerated whenever a JSON file changes.
file(GLOB EXLIAR_GPUDB_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/data/gpu-db/*.json)
set(EXLIAR_GPUDB_CPP ${PROJECT_BINARY_DIR}/generated/gpudb_embedded.cpp)
add_custom_command(
  OUTPUT ${EXLIAR_GPUDB_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${EXLIAR_GPUDB_CPP} "-DFILES=${EXLIAR_GPUDB_FILES}"
          -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
  DEPENDS ${EXLIAR_GPUDB_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
  COMMENT "Embedding GPU database"
  VERBATIM)
add_library(exliar_gpudb STATIC ${EXLIAR_GPUDB_CPP})
